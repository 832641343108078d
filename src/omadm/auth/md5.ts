/**
 * syncml:auth-md5 (OMA-TS-DM_Security §5.1.3.2): Digest = H(B64(H(username:password)):nonce),
 * sent as B64(Digest). H is MD5 producing raw 16 bytes; the nonce is the octets that the peer's
 * base64 NextNonce decodes to. The authenticator may keep only B64(H(username:password)) — the
 * "user key" below — instead of the password.
 */
import * as crypto from "node:crypto";
import { constantTimeEqual } from "./compare.js";

/** Raw 16-byte MD5 over the concatenation of the parts. */
export function md5(...parts: Array<string | Uint8Array>): Buffer {
  const h = crypto.createHash("md5");
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * User keys already derived, by account. The key is constant per name and password while every
 * message of every session needs it, so it is derived once (the Security spec itself lets an
 * authenticator keep it instead of the password). Bounded, oldest out first, because a server
 * meets any number of accounts and should not keep password-equivalent material for all of them.
 */
const userKeys = new Map<string, Map<string, string>>();
let cachedUserKeys = 0;
const MAX_CACHED_USER_KEYS = 64;

/** B64(H(username:password)): the pre-computed secret both MD5 and HMAC are built on. */
export function userKey(user: string, password: string): string {
  // Keyed by name, then password, so the lookup hashes the strings the caller already holds
  // (no joined key to build and hash on every message).
  let byPassword = userKeys.get(user);
  const hit = byPassword?.get(password);
  if (hit !== undefined) return hit;
  const key = crypto.createHash("md5").update(`${user}:${password}`, "utf8").digest("base64");
  if (cachedUserKeys >= MAX_CACHED_USER_KEYS) {
    const [oldest, keys] = userKeys.entries().next().value as [string, Map<string, string>];
    userKeys.delete(oldest);
    cachedUserKeys -= keys.size;
    if (oldest === user) byPassword = undefined;
  }
  if (byPassword === undefined) {
    byPassword = new Map();
    userKeys.set(user, byPassword);
  }
  byPassword.set(password, key);
  cachedUserKeys++;
  return key;
}

/**
 * One-shot hashing (`crypto.hash`, Node ≥ 20.12) where the runtime has it: a digest per message
 * in each direction, and a Hash object per digest costs more than the digest itself.
 */
const oneShot: ((algorithm: string, data: Uint8Array, encoding: "base64") => string) | undefined =
  typeof crypto.hash === "function" ? crypto.hash : undefined;

/** The MD5 digest credential from a stored user key. */
export function md5CredentialFromKey(key: string, nonce: Uint8Array): string {
  if (oneShot === undefined) {
    return crypto.createHash("md5").update(key).update(":").update(nonce).digest("base64");
  }
  // key ":" nonce in one buffer, the key as UTF-8 as Hash.update would take it.
  const n = Buffer.byteLength(key, "utf8");
  const input = Buffer.allocUnsafe(n + 1 + nonce.length);
  input.write(key, 0, "utf8");
  input[n] = 0x3a;
  input.set(nonce, n + 1);
  const digest = oneShot("md5", input, "base64");
  // The buffer may come from Node's shared pool: leave no copy of the key behind in it.
  input.fill(0);
  return digest;
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
