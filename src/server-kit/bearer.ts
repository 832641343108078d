import type { FastifyRequest } from "fastify";

/**
 * RFC 6750 §2.1 `Authorization: Bearer <b64token>`, 16-512 characters: ours are 48
 * (`dmg_` and 32 random bytes, store/repos/tokens.ts); the bound keeps what is hashed for the
 * lookup small.
 */
const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/;

/**
 * The bearer token a request presents, or null when it presents none of that shape. Each
 * server's guard checks it in its store and answers every failure alike (its own 401).
 */
export function bearerToken(req: FastifyRequest): string | null {
  const m = BEARER.exec(req.headers.authorization ?? "");
  return m ? m[1]! : null;
}
