import type { FastifyInstance, FastifyRequest } from "fastify";
import { activateViaEnterprise } from "../activation/activate.js";
import { requireAdmin } from "../admin/auth.js";
import {
  enroll,
  importEnrolment,
  rowsFromCsv,
  rowsFromJson,
  unenroll,
} from "../admin/enrolment.js";
import { type EnterpriseContext, enterpriseContext } from "../context.js";
import { registerDmRoute } from "../dm/route.js";
import { EnterpriseError } from "../errors.js";
import type { EnterpriseOptions } from "../options.js";
import { upstreamNonce } from "../upstream/forward.js";
import { sendEnterpriseError } from "./error-handler.js";
import { addEnterprisePaths, type PathsDocument } from "./openapi.js";
import * as s from "./schemas.js";

/** Largest enrolment import (10^6 rows of CSV is about 50 MB). */
export const IMPORT_BODY_LIMIT = 128 * 1024 * 1024;

/**
 * Mounts the enterprise MDAS under `/enterprises/<id>/` on an app made by createRootApp. The
 * device-facing routes mirror the carrier's (`activation/nonce`, `activation/evidence`, `dm`),
 * so a device's activation flow targets either with `--via carrier:ID|enterprise:ID`.
 */
export async function registerEnterprise(
  app: FastifyInstance,
  opts: EnterpriseOptions,
): Promise<EnterpriseContext> {
  const ctx = await enterpriseContext(opts);
  if (app.hasDecorator("dmguard")) {
    addEnterprisePaths(
      (app as unknown as { dmguard: { openapi: PathsDocument } }).dmguard.openapi,
      ctx.id,
    );
  }
  const admin = { onRequest: (req: FastifyRequest) => requireAdmin(ctx, req) };
  const imeiOf = (req: FastifyRequest) => (req.params as { imei: string }).imei;
  const base = (req: FastifyRequest) => ctx.publicUrl ?? `${req.protocol}://${req.host}`;

  await app.register(
    async (scope) => {
      scope.setErrorHandler((err, req, reply) => sendEnterpriseError(err, req, reply));
      scope.removeContentTypeParser("text/plain");
      scope.addContentTypeParser(
        "text/csv",
        { parseAs: "string", bodyLimit: IMPORT_BODY_LIMIT },
        (_r, body, done) => done(null, body),
      );

      scope.post(
        "/activation/nonce",
        {
          preValidation: async (req) => {
            if (req.body === undefined || req.body === null) req.body = {};
          },
          schema: { body: s.nonceRequest, response: { 200: s.nonceResponse } },
        },
        async (req) => {
          const carrier = (req.body as { carrier?: string }).carrier ?? ctx.defaultCarrier;
          if (carrier === null)
            throw new EnterpriseError("CARRIER_UNKNOWN", "no carrier given and none configured");
          const n = await upstreamNonce(ctx, carrier);
          return { ...n, carrier };
        },
      );

      scope.post(
        "/activation/evidence",
        { schema: { body: s.evidenceRequest, response: { 200: s.activationResponse } } },
        async (req) => {
          const { evidence } = req.body as { evidence: string };
          const r = await activateViaEnterprise(
            ctx,
            evidence,
            `${base(req)}/enterprises/${ctx.id}/dm`,
          );
          req.log.info(
            { imei: r.imei, decision: r.decision, reasons: r.reasons },
            "enterprise decision",
          );
          return r;
        },
      );

      scope.post("/enrolment", { ...admin, bodyLimit: IMPORT_BODY_LIMIT }, async (req) => {
        const csv = typeof req.body === "string";
        const rows = csv ? rowsFromCsv(req.body as string) : rowsFromJson(req.body);
        return importEnrolment(ctx, rows, csv ? "csv" : "json");
      });
      scope.get("/enrolment/:imei", { ...admin, schema: { params: s.imeiParam } }, async (req) => {
        const rec = await ctx.part.enrolment.get(imeiOf(req));
        if (!rec)
          throw new EnterpriseError("DEVICE_NOT_FOUND", "no device of that IMEI is enrolled");
        const dev = await ctx.part.devices.get(rec.imei);
        const access = await ctx.part.access.get(rec.imei);
        return {
          imei: rec.imei,
          user: rec.user,
          userGroup: rec.userGroup,
          state: dev?.state ?? "pending",
          networkAccess: access?.access ?? "none",
          content: dev?.profile ?? null,
        };
      });
      scope.put(
        "/enrolment/:imei",
        { ...admin, schema: { params: s.imeiParam, body: s.enrolRequest } },
        async (req) => {
          const body = (req.body ?? {}) as { user?: string | null; userGroup?: string | null };
          const rec = await enroll(ctx, { imei: imeiOf(req), ...body });
          return { imei: rec.imei, user: rec.user, userGroup: rec.userGroup };
        },
      );
      scope.delete("/enrolment/:imei", { ...admin, schema: { params: s.imeiParam } }, async (req) =>
        unenroll(ctx, imeiOf(req)),
      );

      registerDmRoute(scope, ctx);
    },
    { prefix: `/enterprises/${ctx.id}` },
  );
  return ctx;
}
