import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { CarrierError, type CarrierErrorCode } from "../errors.js";

/**
 * The only place that turns an error into an HTTP answer (STYLE habit 1): a CarrierError as it
 * is; the framework's own refusals (bad JSON, size, media type, schema) under a stable code;
 * anything else a bare INTERNAL, logged in full but shown as nothing.
 */
export function toCarrierError(err: unknown): CarrierError {
  if (err instanceof CarrierError) return err;
  const e = err as Partial<FastifyError> & { validation?: unknown };
  if (e.validation) {
    return new CarrierError(
      "INVALID_REQUEST",
      `the request does not match its schema: ${e.message}`,
    );
  }
  const byStatus: Record<number, CarrierErrorCode> = {
    400: "MALFORMED_BODY",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "BODY_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
  };
  const code = typeof e.statusCode === "number" ? byStatus[e.statusCode] : undefined;
  if (code && typeof e.code === "string" && e.code.startsWith("FST_")) {
    const message: Record<CarrierErrorCode, string> = {
      MALFORMED_BODY: "the request body is not well-formed",
      BODY_TOO_LARGE: "the request body is too large",
      UNSUPPORTED_MEDIA_TYPE: "this Content-Type is not accepted here",
      NOT_FOUND: "no such route",
      METHOD_NOT_ALLOWED: "method not allowed",
    } as Record<CarrierErrorCode, string>;
    return new CarrierError(code, message[code] ?? code);
  }
  return new CarrierError("INTERNAL", "internal error");
}

export function sendError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const ce = toCarrierError(err);
  if (ce.code === "INTERNAL") req.log.error({ err }, "unexpected error");
  else req.log.info({ code: ce.code }, ce.message);
  if (ce.code === "UNAUTHORIZED") reply.header("www-authenticate", 'Bearer realm="dmguard"');
  return reply
    .code(ce.status)
    .header("cache-control", "no-store")
    .send({
      error: { code: ce.code, message: ce.message, ...(ce.details ? { details: ce.details } : {}) },
    });
}
