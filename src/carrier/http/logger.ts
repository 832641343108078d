import type { FastifyServerOptions } from "fastify";

/**
 * pino settings: the request serializer of fastify logs method, URL, host and address only,
 * never headers or bodies; these paths are redacted as well, should anything log an object
 * that carries them (authorization headers, DM account secrets, tokens).
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-syncml-hmac"]',
  "headers.authorization",
  "authorization",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "*.*.secret",
  "dmAccount",
  "*.dmAccount",
  "evidence",
  "*.evidence",
];

export function loggerOptions(
  given: FastifyServerOptions["logger"] | undefined,
): FastifyServerOptions["logger"] {
  if (given === undefined || given === false) return false;
  const base = given === true ? {} : given;
  return { level: "info", ...base, redact: { paths: REDACT_PATHS, censor: "[redacted]" } };
}
