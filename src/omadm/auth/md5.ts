/**
 * syncml:auth-md5 (OMA-TS-DM_Security §5.1.3.2): Digest = H(B64(H(username:password)):nonce),
 * sent as B64(Digest). H is MD5 producing raw 16 bytes; the nonce is the octets that the peer's
 * base64 NextNonce decodes to. The authenticator may keep only B64(H(username:password)) — the
 * "user key" below — instead of the password.
 */
import { createHash } from "node:crypto";
import { constantTimeEqual } from "./compare.js";

/** Raw 16-byte MD5 over the concatenation of the parts. */
export function md5(...parts: Array<string | Uint8Array>): Buffer {
  const h = createHash("md5");
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * User keys already derived, by account. The key is constant per name and password while every
 * message of every session needs it, so it is derived once (the Security spec itself lets an
 * authenticator keep it instead of the password). Bounded, oldest out first, because a server
 * meets any number of accounts and should not keep password-equivalent material for all of them.
 */
const userKeys = new Map<string, string>();
const MAX_CACHED_USER_KEYS = 64;

/** B64(H(username:password)): the pre-computed secret both MD5 and HMAC are built on. */
export function userKey(user: string, password: string): string {
  // The length prefix keeps the cache key unambiguous whatever characters the parts hold.
  const id = `${user.length}:${user}:${password}`;
  let key = userKeys.get(id);
  if (key === undefined) {
    key = createHash("md5").update(`${user}:${password}`, "utf8").digest("base64");
    if (userKeys.size >= MAX_CACHED_USER_KEYS) {
      userKeys.delete(userKeys.keys().next().value as string);
    }
    userKeys.set(id, key);
  }
  return key;
}

/** The MD5 digest credential from a stored user key. */
export function md5CredentialFromKey(key: string, nonce: Uint8Array): string {
  return createHash("md5").update(key).update(":").update(nonce).digest("base64");
}

export function md5Credential(user: string, password: string, nonce: Uint8Array): string {
  return md5CredentialFromKey(userKey(user, password), nonce);
}

export function verifyMd5(
  data: string,
  user: string,
  password: string,
  nonce: Uint8Array,
): boolean {
  return constantTimeEqual(data.trim(), md5Credential(user, password, nonce));
}

/** B64(H(bytes)); used for the message-body part of the HMAC. */
export function md5Base64(bytes: Uint8Array | string): string {
  return md5(bytes).toString("base64");
}
