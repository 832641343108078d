/**
 * Building and checking the Cred and Chal elements (OMA-TS-DM_RepPro §6.1.4 Cred, §6.1.3 Chal;
 * OMA-TS-DM_Protocol §2.4). HMAC never travels in Cred (Security §5.1.4.1): its Chal looks like
 * MD5's and its proof is the x-syncml-hmac transport header.
 */
import type { Chal, Cred } from "../model/message.js";
import { basicCredential, parseBasicCredential, verifyBasic } from "./basic.js";
import { md5Credential, verifyMd5 } from "./md5.js";
import { encodeNonce } from "./nonce.js";
import { AUTH_TYPE_URI, type AuthScheme, schemeFromTypeUri } from "./schemes.js";

/** A party's shared secret and the nonce its peer issued it (DMAcc AAuthName/Secret/Data). */
export interface Secret {
  readonly name: string;
  readonly secret: string;
  /** Decoded octets of the last NextNonce received from the peer; empty before any. */
  readonly nonce: Uint8Array;
}

/** The Cred element for basic or md5; HMAC has none. */
export function makeCred(scheme: "basic" | "md5", who: Secret): Cred {
  const data =
    scheme === "basic"
      ? basicCredential(who.name, who.secret)
      : md5Credential(who.name, who.secret, who.nonce);
  return { meta: { type: AUTH_TYPE_URI[scheme], format: "b64" }, data };
}

/** The Chal element asking for a scheme; MD5 and HMAC carry the next nonce to use. */
export function makeChal(scheme: AuthScheme, nextNonce?: Uint8Array): Chal {
  if (scheme === "basic") return { meta: { type: AUTH_TYPE_URI.basic, format: "b64" } };
  return {
    meta: {
      type: AUTH_TYPE_URI[scheme],
      format: "b64",
      nextNonce: encodeNonce(nextNonce ?? new Uint8Array(0)),
    },
  };
}

export function credScheme(cred: Cred): AuthScheme | undefined {
  // Meta Type defaults to basic when absent (OMA-TS-SyncML_MetInf, Type default for Cred).
  return cred.meta?.type === undefined ? "basic" : schemeFromTypeUri(cred.meta.type);
}

/** The user name a Cred claims: decoded from basic data, or the SyncHdr Source LocName for md5. */
export function credUser(cred: Cred, locName: string | undefined): string | undefined {
  const scheme = credScheme(cred);
  if (scheme === "basic") return parseBasicCredential(cred.data)?.user;
  if (scheme === "md5") return locName;
  return undefined;
}

/** Checks a basic or md5 Cred against the expected secret; false for any other scheme. */
export function verifyCred(cred: Cred, expected: Secret): boolean {
  const scheme = credScheme(cred);
  if (scheme === "basic") return verifyBasic(cred.data, expected.name, expected.secret);
  if (scheme === "md5") return verifyMd5(cred.data, expected.name, expected.secret, expected.nonce);
  return false;
}
