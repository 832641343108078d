import type { FastifyInstance } from "fastify";
import type { DmServer } from "../../omadm/session/index.js";
import { registerDmRoute as registerSharedDmRoute } from "../../server-kit/index.js";
import type { CarrierContext } from "../context.js";
import { carrierDmApp } from "./dm-app.js";

export { DM_BODY_LIMIT, DM_MEDIA_TYPES } from "../../server-kit/index.js";

/** `POST /carriers/<id>/dm`: the carrier's DM server app behind the shared DM route. */
export function registerDmRoute(scope: FastifyInstance, ctx: CarrierContext): DmServer {
  return registerSharedDmRoute(scope, {
    serverUri: `./carriers/${ctx.id}/dm`,
    app: carrierDmApp(ctx),
    now: ctx.now,
  });
}
