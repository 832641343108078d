/**
 * HMAC integrity (OMA-TS-DM_Security §5.1.4): every message of the session carries, in the
 * transport header x-syncml-hmac, mac = B64(H(B64(H(username:password)):nonce:B64(H(body))))
 * with H = MD5 (raw octets), nonce = the decoded NextNonce octets, body = the entire message
 * body exactly as sent (WBXML bytes or XML text).
 */
import { ProtocolError } from "../errors.js";
import { constantTimeEqual } from "./compare.js";
import { md5, md5Base64, userKey } from "./md5.js";

export const HMAC_HEADER = "x-syncml-hmac";

export interface HmacHeader {
  /** Only "MD5" is defined (§5.1.4.3); absent means MD5. */
  readonly algorithm: string;
  /** The sender's identity: the LocName of the SyncHdr Source. */
  readonly username: string;
  readonly mac: string;
}

export function computeMacFromKey(key: string, nonce: Uint8Array, body: Uint8Array): string {
  return md5(key, ":", nonce, ":", md5Base64(body)).toString("base64");
}

export function computeMac(
  user: string,
  password: string,
  nonce: Uint8Array,
  body: Uint8Array,
): string {
  return computeMacFromKey(userKey(user, password), nonce, body);
}

export function verifyMac(
  mac: string,
  user: string,
  password: string,
  nonce: Uint8Array,
  body: Uint8Array,
): boolean {
  return constantTimeEqual(mac.trim(), computeMac(user, password, nonce, body));
}

/** Formats the header value; the username is a quoted-string (RFC 2616 §2.2). */
export function formatHmacHeader(username: string, mac: string): string {
  const quoted = username.replace(/["\\]/g, (c) => `\\${c}`);
  return `algorithm=MD5, username="${quoted}", mac=${mac}`;
}

/** The whole header for a sender: its credentials, the nonce its peer issued, the body sent. */
export function signBody(
  user: string,
  password: string,
  nonce: Uint8Array,
  body: Uint8Array,
): string {
  return formatHmacHeader(user, computeMac(user, password, nonce, body));
}

function fail(message: string): never {
  throw new ProtocolError("AUTH_FAILED", message, { path: HMAC_HEADER });
}

/**
 * Parses `algorithm=MD5, username="…", mac=…` (§5.1.4.3: a comma separated #rule of
 * attribute-value pairs; username a quoted-string, mac a base64 string). Attribute names are
 * case-insensitive; an unquoted username token is tolerated because deployed clients send it.
 */
export function parseHmacHeader(value: string): HmacHeader {
  const params = new Map<string, string>();
  let i = 0;
  const n = value.length;
  const skip = () => {
    while (
      i < n &&
      (value[i] === " " || value[i] === "\t" || value[i] === "\r" || value[i] === "\n")
    )
      i++;
  };
  while (i < n) {
    skip();
    if (value[i] === ",") {
      i++;
      continue;
    }
    const eq = value.indexOf("=", i);
    if (eq < 0) fail("x-syncml-hmac parameter without '='");
    const name = value.slice(i, eq).trim().toLowerCase();
    if (!/^[a-z-]+$/.test(name)) fail("x-syncml-hmac has a malformed parameter name");
    i = eq + 1;
    skip();
    let v = "";
    if (value[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = value[i];
        if (c === "\\" && i + 1 < n) {
          v += value[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          closed = true;
          break;
        } else {
          v += c;
          i++;
        }
      }
      if (!closed) fail("x-syncml-hmac has an unterminated quoted-string");
    } else {
      const comma = value.indexOf(",", i);
      const end = comma < 0 ? n : comma;
      v = value.slice(i, end).trim();
      i = end;
    }
    if (params.has(name)) fail(`x-syncml-hmac repeats the parameter ${name}`);
    params.set(name, v);
  }
  const algorithm = params.get("algorithm") ?? "MD5";
  if (algorithm.toUpperCase() !== "MD5")
    fail(`x-syncml-hmac algorithm ${algorithm} is not supported`);
  const username = params.get("username");
  const mac = params.get("mac");
  if (username === undefined || username === "") fail("x-syncml-hmac lacks the username");
  if (!mac || !/^[A-Za-z0-9+/]+=*$/.test(mac)) fail("x-syncml-hmac lacks a base64 mac");
  return { algorithm: "MD5", username, mac };
}
