import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

/**
 * The error shape every server's HTTP API shares (STYLE habits 1 and 2). Each server keeps its
 * own catalogue of codes and their HTTP statuses (carrier/errors.ts, platform/errors.ts,
 * enterprise/errors.ts); the class, the mapping of fastify's own refusals, and the one
 * serializer are defined here, once.
 */

/** The codes every catalogue has: framework refusals, schema misses, and anything unexpected. */
export type CommonErrorCode =
  | "MALFORMED_BODY"
  | "INVALID_REQUEST"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "BODY_TOO_LARGE"
  | "URI_TOO_LONG"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "INTERNAL";

/** An error of one server's catalogue: a stable `code`, its HTTP status, a message safe to show. */
export interface CatalogueError<C extends string> extends Error {
  readonly code: C;
  readonly status: number;
  /** Shown to the client as `error.details`: public facts only (line numbers, field names). */
  readonly details: Record<string, unknown> | undefined;
}

export interface CatalogueErrorClass<C extends string> {
  new (code: C, message: string, details?: Record<string, unknown>): CatalogueError<C>;
  /** `err` is an error of this class (and of `code`, when given). */
  is(err: unknown, code?: C): err is CatalogueError<C>;
}

/** The error class of one server: `name` (e.g. "CarrierError") over its catalogue of codes. */
export function catalogueError<C extends string>(
  name: string,
  catalogue: Readonly<Record<C, number>>,
): CatalogueErrorClass<C> {
  const Own = class extends Error implements CatalogueError<C> {
    override readonly name = name;
    readonly code: C;
    readonly status: number;
    readonly details: Record<string, unknown> | undefined;

    constructor(code: C, message: string, details?: Record<string, unknown>) {
      super(message);
      this.code = code;
      this.status = catalogue[code];
      this.details = details;
    }

    static is(err: unknown, code?: C): err is CatalogueError<C> {
      return err instanceof Own && (code === undefined || err.code === code);
    }
  };
  // The constructor's own name too (stack traces, loggers' `type`), as a declared class has.
  Object.defineProperty(Own, "name", { value: name });
  return Own;
}

/** Fastify's own refusals (its `FST_*` errors), by status, under a stable code. */
const FRAMEWORK_REFUSALS: Readonly<Record<number, readonly [CommonErrorCode, string]>> = {
  400: ["MALFORMED_BODY", "the request body is not well-formed"],
  404: ["NOT_FOUND", "no such route"],
  405: ["METHOD_NOT_ALLOWED", "method not allowed"],
  413: ["BODY_TOO_LARGE", "the request body is too large"],
  415: ["UNSUPPORTED_MEDIA_TYPE", "this Content-Type is not accepted here"],
};

/** Fastify's refusals whose status alone would say the wrong thing. */
const FRAMEWORK_BY_CODE: Readonly<Record<string, readonly [CommonErrorCode, string]>> = {
  FST_ERR_BAD_URL: ["INVALID_REQUEST", "the URL is not well-formed"],
  FST_ERR_MAX_PARAM_LENGTH: ["URI_TOO_LONG", "a segment of the URL is too long"],
};

/**
 * An error of `Own` as it is; fastify's schema misses as INVALID_REQUEST and its own refusals
 * under a stable code (never with their message, which may quote the request); a request whose
 * client went away while its body was read as MALFORMED_BODY, not a fault of ours; anything
 * else a bare INTERNAL (logged in full by the serializer).
 */
export function toCatalogueError<C extends string>(
  Own: CatalogueErrorClass<C | CommonErrorCode>,
  err: unknown,
): CatalogueError<C | CommonErrorCode> {
  if (Own.is(err)) return err;
  const e = err as Partial<FastifyError> & { validation?: unknown };
  if (e.validation) {
    return new Own("INVALID_REQUEST", `the request does not match its schema: ${e.message}`);
  }
  if (typeof e.code === "string" && e.code.startsWith("FST_")) {
    const known =
      FRAMEWORK_BY_CODE[e.code] ??
      (typeof e.statusCode === "number" ? FRAMEWORK_REFUSALS[e.statusCode] : undefined);
    if (known) return new Own(known[0], known[1]);
  }
  // Node's "aborted" from the request stream (code ECONNRESET, no syscall): the client closed
  // the connection before its body was in. Logged as a refusal, not as an error of the server:
  // any client can cause it at will. A socket of ours reset (the database's, which pg hands to
  // the query) has a syscall and stays INTERNAL.
  if (e.code === "ECONNRESET" && e.message === "aborted" && !("syscall" in e)) {
    return new Own("MALFORMED_BODY", "the request ended before its body did");
  }
  return new Own("INTERNAL", "internal error");
}

/** Which refusal asks for a bearer token (RFC 6750 §3), and the realm it names. */
export interface BearerChallenge {
  readonly code: string;
  readonly realm: string;
}

/**
 * The only place that turns an error into an HTTP answer (STYLE habit 1), in the one
 * `{error: {code, message, details}}` shape every server answers with, so one client reads all.
 * `e` is `err` as its server's catalogue error (`toCatalogueError`).
 */
export function sendCatalogueError(
  e: CatalogueError<string>,
  err: unknown,
  req: FastifyRequest,
  reply: FastifyReply,
  challenge: BearerChallenge,
): FastifyReply {
  if (e.code === "INTERNAL") req.log.error({ err }, "unexpected error");
  else req.log.info({ code: e.code }, e.message);
  if (e.code === challenge.code) {
    reply.header("www-authenticate", `Bearer realm="${challenge.realm}"`);
  }
  return reply
    .code(e.status)
    .header("cache-control", "no-store")
    .send({
      error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) },
    });
}
