import type { FastifyInstance, FastifyRequest } from "fastify";
import { type PlatformContext, platformContext } from "../context.js";
import { type DepositInput, depositDevice, updateDevice } from "../custody/deposit.js";
import {
  applyCustodyEvent,
  applyCustodyEvents,
  type CustodyEventItem,
  parseCustodyEvent,
} from "../custody/events.js";
import { type CustodyStatus, ensureCustody } from "../custody/records.js";
import { PlatformError, tokenInvalid } from "../errors.js";
import { answerMigration } from "../migration/question.js";
import type { PlatformOptions } from "../options.js";
import { authenticate, holdsCarrier } from "../tokens/authenticate.js";
import { issuePlatformToken, revokePlatformToken, rotatePlatformToken } from "../tokens/issue.js";
import type { Scope } from "../tokens/scopes.js";
import { platformVerdictKey } from "../verify/sign.js";
import { nonceSubject, verifyEvidence } from "../verify/verify-evidence.js";
import { sendPlatformError } from "./error-handler.js";
import { addPlatformPaths, type PathsDocument } from "./openapi.js";
import * as s from "./schemas.js";

type Params = { carrier: string; imei: string; id: string };
const params = (req: FastifyRequest) => req.params as Params;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A carrier's custody is ready to use: its record secret and platform verdict key exist. */
async function prepareCarrier(ctx: PlatformContext, id: string): Promise<void> {
  await ctx.tenants.registerCarrier(id);
  await Promise.all([ensureCustody(ctx, id), platformVerdictKey(ctx.keystore, id)]);
}

/**
 * Mounts the common platform under `/platform/` on an app made by createRootApp (beside the
 * carriers and the enterprise). Resolves to its context once every registered carrier's
 * custody keys exist.
 */
export async function registerPlatform(
  app: FastifyInstance,
  opts: PlatformOptions,
): Promise<PlatformContext> {
  const ctx = await platformContext(opts);
  for (const c of await ctx.tenants.carriers()) await prepareCarrier(ctx, c);
  if (app.hasDecorator("dmguard")) {
    const root = (app as unknown as { dmguard: { openapi: PathsDocument } }).dmguard;
    addPlatformPaths(root.openapi);
  }
  const auth = (scope: Scope) => (req: FastifyRequest) => authenticate(ctx, req, scope);

  await app.register(
    async (scope) => {
      scope.setErrorHandler((err, req, reply) => sendPlatformError(err, req, reply));
      scope.removeContentTypeParser("text/plain");

      scope.get("/transport-key", async () => ({ jwk: await ctx.keystore.transportPublicKey() }));

      scope.get(
        "/carriers/:carrier/verdict-key",
        { schema: { params: s.carrierParam } },
        async (req) => {
          const { carrier } = params(req);
          if (!(await ctx.tenants.isCarrier(carrier))) {
            throw new PlatformError("CARRIER_UNKNOWN", "no carrier of that id is registered");
          }
          return { carrier, jwk: await platformVerdictKey(ctx.keystore, carrier) };
        },
      );

      scope.put(
        "/custody/:carrier/devices/:imei",
        { schema: { params: s.deviceParams, body: s.depositRequest } },
        async (req) => {
          const p = await auth("custody")(req);
          const { carrier, imei } = params(req);
          if (!holdsCarrier(p, carrier)) throw tokenInvalid();
          return depositDevice(ctx, carrier, imei, req.body as DepositInput, p.tokenId);
        },
      );

      scope.post(
        "/custody/:carrier/devices/:imei/status",
        { schema: { params: s.deviceParams, body: s.statusRequest } },
        async (req) => {
          const p = await auth("custody")(req);
          const { carrier, imei } = params(req);
          if (!holdsCarrier(p, carrier)) throw tokenInvalid();
          const body = req.body as { status?: CustodyStatus; contractEnd?: string | null };
          const r = await updateDevice(ctx, carrier, imei, body, p.tokenId);
          if (!r)
            throw new PlatformError("DEVICE_NOT_FOUND", "no such device in this carrier's custody");
          return r;
        },
      );

      scope.post(
        "/custody/:carrier/devices/:imei/events",
        {
          schema: {
            params: s.deviceParams,
            body: s.custodyEventRequest,
            response: { 200: s.custodyEventResponse },
          },
        },
        async (req) => {
          const p = await auth("custody")(req);
          const { carrier, imei } = params(req);
          // Decided before any lookup: another carrier's token learns nothing about the device.
          if (!holdsCarrier(p, carrier)) throw tokenInvalid();
          const r = await applyCustodyEvent(
            ctx,
            carrier,
            imei,
            parseCustodyEvent(req.body),
            p.tokenId,
          );
          if (!r)
            throw new PlatformError("DEVICE_NOT_FOUND", "no such device in this carrier's custody");
          return r;
        },
      );

      scope.post(
        "/custody/:carrier/events",
        {
          schema: {
            params: s.carrierParam,
            body: s.custodyEventsRequest,
            response: { 200: s.custodyEventsResponse },
          },
        },
        async (req) => {
          const p = await auth("custody")(req);
          const { carrier } = params(req);
          if (!holdsCarrier(p, carrier)) throw tokenInvalid();
          const { events } = req.body as { events: CustodyEventItem[] };
          return { results: await applyCustodyEvents(ctx, carrier, events, p.tokenId) };
        },
      );

      scope.post(
        "/verifications/nonce",
        {
          // A bare POST is the request; anything sent along must be an empty object.
          preValidation: async (req) => {
            if (req.body === undefined || req.body === null) req.body = {};
          },
          schema: { body: s.emptyRequest, response: { 200: s.nonceResponse } },
        },
        async (req) => {
          const p = await auth("verify")(req);
          const n = await ctx.part.nonces.issue({
            ttlMs: ctx.nonceTtlMs,
            subject: nonceSubject(p),
            now: ctx.now(),
          });
          return { nonce: n.nonce, expiresAt: new Date(n.expiresAt).toISOString() };
        },
      );

      scope.post("/verifications", { schema: { body: s.evidenceRequest } }, async (req) => {
        const p = await auth("verify")(req);
        const answer = await verifyEvidence(ctx, p, (req.body as { evidence: string }).evidence);
        return answer;
      });

      scope.post(
        "/migration/questions",
        { schema: { body: s.evidenceRequest, response: { 200: s.migrationResponse } } },
        async (req) => {
          const p = await auth("migrate")(req);
          return answerMigration(ctx, p, (req.body as { evidence: string }).evidence);
        },
      );

      scope.post("/tenants", { schema: { body: s.tenantRequest } }, async (req) => {
        await auth("operator")(req);
        const b = req.body as { kind: "carrier" | "enterprise"; id: string; carriers?: string[] };
        if (b.kind === "carrier") await prepareCarrier(ctx, b.id);
        else await ctx.tenants.registerEnterprise({ id: b.id, carriers: b.carriers ?? [] });
        await ctx.part.audit.append(
          { actor: "operator", action: "tenant-registered", subject: `${b.kind}:${b.id}` },
          ctx.now(),
        );
        return ctx.tenants.get(`${b.kind}:${b.id}`);
      });

      scope.post("/tokens", { schema: { body: s.tokenRequest } }, async (req) => {
        await auth("operator")(req);
        const b = req.body as {
          holders: string[];
          scopes: Scope[];
          ttlSeconds?: number;
          label?: string;
        };
        for (const h of b.holders) {
          if (h !== "operator" && !(await ctx.tenants.get(h))) {
            throw new PlatformError("INVALID_REQUEST", `${h} is not a registered tenant`);
          }
        }
        const { token, record } = await issuePlatformToken(
          opts.store,
          {
            holders: b.holders,
            scopes: b.scopes,
            ttlMs: b.ttlSeconds ? b.ttlSeconds * 1000 : null,
            label: b.label ?? null,
          },
          ctx.now(),
        );
        return { id: record.id, token, expiresAt: iso(record.expiresAt) };
      });

      scope.post("/tokens/:id/rotate", { schema: { params: s.tokenIdParam } }, async (req) => {
        await auth("operator")(req);
        const r = await rotatePlatformToken(opts.store, params(req).id, ctx.now());
        if (!r) throw new PlatformError("NOT_FOUND", "no live token of that id");
        return { id: r.record.id, token: r.token, expiresAt: iso(r.record.expiresAt) };
      });

      scope.post("/tokens/:id/revoke", { schema: { params: s.tokenIdParam } }, async (req) => {
        await auth("operator")(req);
        const revoked = await revokePlatformToken(opts.store, params(req).id, ctx.now());
        if (!revoked) throw new PlatformError("NOT_FOUND", "no live token of that id");
        return { id: params(req).id, revoked: true };
      });
    },
    { prefix: "/platform" },
  );
  return ctx;
}
