import type { FastifyReply, FastifyRequest } from "fastify";
import { sendCatalogueError, toCatalogueError } from "../../server-kit/index.js";
import { CarrierError } from "../errors.js";

/**
 * The only place that turns an error into an HTTP answer (STYLE habit 1), through the one
 * serializer of src/server-kit/errors.ts: a CarrierError as it is; the framework's own refusals
 * (bad JSON, size, media type, schema) under a stable code; anything else a bare INTERNAL,
 * logged in full but shown as nothing.
 */
export function toCarrierError(err: unknown): CarrierError {
  return toCatalogueError(CarrierError, err);
}

export function sendError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendCatalogueError(toCarrierError(err), err, req, reply, {
    code: "UNAUTHORIZED",
    realm: "dmguard",
  });
}
