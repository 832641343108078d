import type { FastifyReply, FastifyRequest } from "fastify";
import { sendCatalogueError, toCatalogueError } from "../../server-kit/index.js";
import { PlatformError } from "../errors.js";

/** A PlatformError as it is; fastify's own refusals under a stable code; anything else INTERNAL. */
export function toPlatformError(err: unknown): PlatformError {
  return toCatalogueError(PlatformError, err);
}

/** The platform scope's only error serializer (src/server-kit/errors.ts, the carrier's shape). */
export function sendPlatformError(
  err: unknown,
  req: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  return sendCatalogueError(toPlatformError(err), err, req, reply, {
    code: "TOKEN_INVALID",
    realm: "dmguard-platform",
  });
}
