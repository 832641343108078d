import type { FastifyInstance } from "fastify";
import { registerDmRoute as registerSharedDmRoute } from "../../server-kit/index.js";
import type { EnterpriseContext } from "../context.js";
import { enterpriseDmApp } from "./dm-app.js";

/** `POST /enterprises/<id>/dm`: the MDAS's DM server app behind the shared DM route. */
export function registerDmRoute(scope: FastifyInstance, ctx: EnterpriseContext): void {
  registerSharedDmRoute(scope, {
    serverUri: `./enterprises/${ctx.id}/dm`,
    app: enterpriseDmApp(ctx),
    now: ctx.now,
  });
}
