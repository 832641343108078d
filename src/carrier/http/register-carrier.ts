import type { FastifyInstance, FastifyRequest } from "fastify";
import { crashPoint } from "../../fault/crash-point.js";
import { judgeEvidence } from "../activation/judge-evidence.js";
import { requireAdmin } from "../admin/auth.js";
import {
  blockDevice,
  lookupDevice,
  terminateDevice,
  unblockDevice,
} from "../admin/device-actions.js";
import { importInventory, rowsFromCsv, rowsFromJson } from "../admin/inventory-import.js";
import { issueSlotKey } from "../admin/slot-keys.js";
import { type CarrierContext, carrierContext } from "../context.js";
import { registerDmRoute } from "../dm/route.js";
import { carrierMetrics } from "../metrics.js";
import { startMigrationDelivery } from "../migration/finish.js";
import { addMigrationPaths, registerMigrationRoutes } from "../migration/routes.js";
import type { CarrierOptions } from "../options.js";
import { startPlatformSync } from "../platform-sync/start.js";
import { registerNonceRoute } from "./nonce-route.js";
import { addCarrierPaths } from "./openapi.js";
import * as s from "./schemas.js";

/** How often expired nonces are swept. */
export const NONCE_SWEEP_MS = 60_000;

/** Largest inventory import body (a 10^6-device CSV is about 80 MB). */
export const IMPORT_BODY_LIMIT = 256 * 1024 * 1024;

function baseUrl(ctx: CarrierContext, req: FastifyRequest): string {
  return ctx.publicUrl ?? `${req.protocol}://${req.host}`;
}

/**
 * Mounts one carrier under `/carriers/<id>/` on an app made by createRootApp (several carriers,
 * the enterprise and the platform can share it). Resolves to the carrier's context once its
 * keys exist.
 */
export async function registerCarrier(
  app: FastifyInstance,
  opts: CarrierOptions,
): Promise<CarrierContext> {
  const root = app.dmguard;
  const ctx = await carrierContext(opts, carrierMetrics(root.registry));
  addCarrierPaths(root.openapi, ctx.id);
  addMigrationPaths(root.openapi);
  root.healthChecks.push({
    name: `store (${ctx.owner})`,
    check: async () => {
      await ctx.part.kv.get("health", "ping");
    },
  });
  // Expired nonces (and used ones past their expiry) are deleted, so the table does not grow
  // with traffic; a used nonce stays until its expiry, so a replay still reads NONCE_REPLAYED.
  const sweeper = setInterval(() => {
    ctx.part.nonces.sweep(ctx.now()).catch((err: unknown) => app.log.warn({ err }, "nonce sweep"));
  }, NONCE_SWEEP_MS);
  sweeper.unref();
  app.addHook("onClose", async () => clearInterval(sweeper));
  startPlatformSync(app, ctx);
  startMigrationDelivery(app, ctx);
  const admin = { onRequest: (req: FastifyRequest) => requireAdmin(ctx, req) };
  const imeiOf = (req: FastifyRequest) => (req.params as { imei: string }).imei;

  await app.register(
    async (scope) => {
      // JSON everywhere, CSV for imports, SyncML for DM: nothing else is parsed (415).
      scope.removeContentTypeParser("text/plain");
      scope.addContentTypeParser(
        "text/csv",
        { parseAs: "string", bodyLimit: IMPORT_BODY_LIMIT },
        (_req, body, done) => done(null, body),
      );

      registerNonceRoute(scope, ctx, "/activation/nonce", () =>
        crashPoint("carrier.activation.nonce-issued"),
      );

      scope.post("/activation/evidence", { schema: { body: s.evidenceRequest } }, async (req) => {
        const { evidence } = req.body as { evidence: string };
        const result = await judgeEvidence(
          ctx,
          evidence,
          `${baseUrl(ctx, req)}/carriers/${ctx.id}/dm`,
        );
        req.log.info(
          { imei: result.imei, decision: result.decision, reasons: result.reasons },
          "verdict",
        );
        return result;
      });

      scope.get("/verdict-key", async () => ({ carrier: ctx.id, jwk: ctx.verdictKey }));

      scope.post(
        "/slot-keys",
        { ...admin, schema: { body: s.slotKeyRequest, response: { 200: s.slotKeyResponse } } },
        async (req) => {
          const b = req.body as { hpkePublicKey: unknown; custodyPublicKey?: unknown };
          return issueSlotKey(ctx, b.hpkePublicKey, b.custodyPublicKey);
        },
      );

      scope.post(
        "/inventory",
        {
          ...admin,
          bodyLimit: IMPORT_BODY_LIMIT,
          schema: { querystring: s.importQuery, response: { 200: s.importResponse } },
        },
        async (req) => {
          const mode = (req.query as { mode?: "insert" | "upsert" }).mode ?? "insert";
          const csv = typeof req.body === "string";
          const rows = csv ? rowsFromCsv(req.body as string) : rowsFromJson(req.body);
          return importInventory(ctx, rows, { mode, format: csv ? "csv" : "json" });
        },
      );

      scope.get("/devices/:imei", { ...admin, schema: { params: s.imeiParam } }, async (req) =>
        lookupDevice(ctx, imeiOf(req)),
      );
      const action = {
        ...admin,
        schema: { params: s.imeiParam, response: { 200: s.deviceStatusResponse } },
      };
      scope.post("/devices/:imei/block", action, async (req) => blockDevice(ctx, imeiOf(req)));
      scope.post("/devices/:imei/unblock", action, async (req) => unblockDevice(ctx, imeiOf(req)));
      scope.post("/devices/:imei/terminate", action, async (req) =>
        terminateDevice(ctx, imeiOf(req)),
      );

      registerMigrationRoutes(scope, ctx, (req) => `${baseUrl(ctx, req)}/carriers/${ctx.id}/dm`);
      registerDmRoute(scope, ctx);
    },
    { prefix: `/carriers/${ctx.id}` },
  );
  return ctx;
}
