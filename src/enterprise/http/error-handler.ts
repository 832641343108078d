import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { EnterpriseError, type EnterpriseErrorCode } from "../errors.js";

const BY_STATUS: Record<number, [EnterpriseErrorCode, string]> = {
  400: ["MALFORMED_BODY", "the request body is not well-formed"],
  404: ["NOT_FOUND", "no such route"],
  405: ["METHOD_NOT_ALLOWED", "method not allowed"],
  413: ["BODY_TOO_LARGE", "the request body is too large"],
  415: ["UNSUPPORTED_MEDIA_TYPE", "this Content-Type is not accepted here"],
};

/** A EnterpriseError as it is; fastify's own refusals under a stable code; anything else INTERNAL. */
export function toEnterpriseError(err: unknown): EnterpriseError {
  if (err instanceof EnterpriseError) return err;
  const e = err as Partial<FastifyError> & { validation?: unknown };
  if (e.validation) {
    return new EnterpriseError(
      "INVALID_REQUEST",
      `the request does not match its schema: ${e.message}`,
    );
  }
  const known = typeof e.statusCode === "number" ? BY_STATUS[e.statusCode] : undefined;
  if (known && typeof e.code === "string" && e.code.startsWith("FST_")) {
    return new EnterpriseError(known[0], known[1]);
  }
  return new EnterpriseError("INTERNAL", "internal error");
}

/**
 * The enterprise scope's only error serializer, in the same `{error: {code, message, details}}`
 * shape the carrier server answers with, so one client reads both.
 */
export function sendEnterpriseError(
  err: unknown,
  req: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const ee = toEnterpriseError(err);
  if (ee.code === "INTERNAL") req.log.error({ err }, "unexpected error");
  else req.log.info({ code: ee.code }, ee.message);
  if (ee.code === "UNAUTHORIZED")
    reply.header("www-authenticate", 'Bearer realm="dmguard-enterprise"');
  return reply
    .code(ee.status)
    .header("cache-control", "no-store")
    .send({
      error: { code: ee.code, message: ee.message, ...(ee.details ? { details: ee.details } : {}) },
    });
}
