/**
 * syncml:auth-basic (OMA-TS-DM_Protocol §2.4.4, OMA-TS-DM_Security §5.1.3): the credential is
 * B64("user:password"). Weak on its own; meant for links protected at the transport layer.
 */
import { constantTimeEqual } from "./compare.js";

export function basicCredential(user: string, password: string): string {
  return Buffer.from(`${user}:${password}`, "utf8").toString("base64");
}

export interface BasicIdentity {
  readonly user: string;
  readonly password: string;
}

/** Splits a basic credential at its first colon (user names cannot hold one; passwords may). */
export function parseBasicCredential(data: string): BasicIdentity | undefined {
  const text = Buffer.from(data.trim(), "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon <= 0) return undefined;
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

export function verifyBasic(data: string, user: string, password: string): boolean {
  return constantTimeEqual(data.trim(), basicCredential(user, password));
}
