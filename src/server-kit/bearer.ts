import type { FastifyRequest } from "fastify";

/**
 * RFC 6750 §2.1 `Authorization: Bearer <b64token>`, 16-512 characters: ours are 48
 * (`dmg_` and 32 random bytes, store/repos/tokens.ts); the bound keeps what is hashed for the
 * lookup small.
 */
const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/i;

/** How many Authorization headers the request carried (Node keeps only the first). */
function authorizationCount(req: FastifyRequest): number {
  const raw = req.raw.rawHeaders;
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 13 && raw[i]!.toLowerCase() === "authorization") n++;
  }
  return n;
}

/**
 * The bearer token a request presents, or null when it presents none of that shape. The
 * scheme's name is case-insensitive (RFC 9110 §11.1). A request with two Authorization headers
 * presents none: Node would read the first, a proxy or a log perhaps the other. Each server's
 * guard checks the token in its store and answers every failure alike (its own 401).
 */
export function bearerToken(req: FastifyRequest): string | null {
  const m = BEARER.exec(req.headers.authorization ?? "");
  if (!m || authorizationCount(req) !== 1) return null;
  return m[1]!;
}
