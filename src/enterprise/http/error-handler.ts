import type { FastifyReply, FastifyRequest } from "fastify";
import { sendCatalogueError, toCatalogueError } from "../../server-kit/index.js";
import { EnterpriseError } from "../errors.js";

/** An EnterpriseError as it is; fastify's own refusals under a stable code; anything else INTERNAL. */
export function toEnterpriseError(err: unknown): EnterpriseError {
  return toCatalogueError(EnterpriseError, err);
}

/** The enterprise scope's only error serializer (src/server-kit/errors.ts, the carrier's shape). */
export function sendEnterpriseError(
  err: unknown,
  req: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  return sendCatalogueError(toEnterpriseError(err), err, req, reply, {
    code: "UNAUTHORIZED",
    realm: "dmguard-enterprise",
  });
}
