import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { PlatformError, type PlatformErrorCode } from "../errors.js";

const BY_STATUS: Record<number, [PlatformErrorCode, string]> = {
  400: ["MALFORMED_BODY", "the request body is not well-formed"],
  404: ["NOT_FOUND", "no such route"],
  405: ["METHOD_NOT_ALLOWED", "method not allowed"],
  413: ["BODY_TOO_LARGE", "the request body is too large"],
  415: ["UNSUPPORTED_MEDIA_TYPE", "this Content-Type is not accepted here"],
};

/** A PlatformError as it is; fastify's own refusals under a stable code; anything else INTERNAL. */
export function toPlatformError(err: unknown): PlatformError {
  if (err instanceof PlatformError) return err;
  const e = err as Partial<FastifyError> & { validation?: unknown };
  if (e.validation) {
    return new PlatformError(
      "INVALID_REQUEST",
      `the request does not match its schema: ${e.message}`,
    );
  }
  const known = typeof e.statusCode === "number" ? BY_STATUS[e.statusCode] : undefined;
  if (known && typeof e.code === "string" && e.code.startsWith("FST_")) {
    return new PlatformError(known[0], known[1]);
  }
  return new PlatformError("INTERNAL", "internal error");
}

/**
 * The platform scope's only error serializer, in the same `{error: {code, message, details}}`
 * shape the carrier server answers with, so one client reads both.
 */
export function sendPlatformError(
  err: unknown,
  req: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const pe = toPlatformError(err);
  if (pe.code === "INTERNAL") req.log.error({ err }, "unexpected error");
  else req.log.info({ code: pe.code }, pe.message);
  if (pe.code === "TOKEN_INVALID")
    reply.header("www-authenticate", 'Bearer realm="dmguard-platform"');
  return reply
    .code(pe.status)
    .header("cache-control", "no-store")
    .send({
      error: { code: pe.code, message: pe.message, ...(pe.details ? { details: pe.details } : {}) },
    });
}
