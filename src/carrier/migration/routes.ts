import type { FastifyInstance, FastifyRequest } from "fastify";
import { resolvePolicy } from "../../server-kit/migration-policy.js";
import { requireAdmin } from "../admin/auth.js";
import type { CarrierContext } from "../context.js";
import { CarrierError } from "../errors.js";
import { registerNonceRoute } from "../http/nonce-route.js";
import type { OpenApiDocument } from "../http/openapi.js";
import * as s from "../http/schemas.js";
import { answerQuestion, issuePeerToken, requirePeer } from "./answer-question.js";
import { judgeMigration } from "./judge-migration.js";
import { portOutOf, recordPortOut } from "./port-out.js";

/**
 * The migration routes of one carrier (src/carrier/README.md "Migration"):
 * - as the new carrier B: `POST …/migration/nonce`, `POST …/migration/evidence` (the same
 *   shapes as activation's; the verdict carries `purpose: "migration"`);
 * - as the old carrier A: `POST …/migration/port-outs` (B's notice, with the device's evidence)
 *   and `GET …/migration/port-outs/{imei}` (admin); `POST …/migration/peer-tokens` (admin) issues
 *   the token a peer carrier asks `POST …/migration/questions` with.
 */
export function registerMigrationRoutes(
  scope: FastifyInstance,
  ctx: CarrierContext,
  dmServerUri: (req: FastifyRequest) => string,
): void {
  registerNonceRoute(scope, ctx, "/migration/nonce");

  scope.post("/migration/evidence", { schema: { body: s.evidenceRequest } }, async (req) => {
    const { evidence } = req.body as { evidence: string };
    const result = await judgeMigration(ctx, evidence, dmServerUri(req));
    req.log.info(
      { imei: result.imei, decision: result.decision, reasons: result.reasons },
      "migration verdict",
    );
    return result;
  });

  // As A, asked directly by a peer carrier (answer-question.ts); its policy is checked now.
  const policy = resolvePolicy(ctx.migration.policy);
  scope.post("/migration/questions", { schema: { body: s.evidenceRequest } }, async (req) => {
    const asker = await requirePeer(ctx, req);
    const { evidence } = req.body as { evidence: string };
    const answer = await answerQuestion(ctx, policy, asker, evidence);
    return answer;
  });

  // As A: the token a peer carrier asks with (shown once; the store keeps its digest).
  scope.post(
    "/migration/peer-tokens",
    {
      onRequest: (req: FastifyRequest) => requireAdmin(ctx, req),
      schema: { body: peerTokenRequest, response: { 200: peerTokenResponse } },
    },
    async (req) => {
      const { peer, ttlDays } = req.body as { peer: string; ttlDays?: number };
      if (peer === ctx.id) {
        throw new CarrierError(
          "INVALID_REQUEST",
          "a carrier does not ask itself: name another carrier",
        );
      }
      const ttlMs = ttlDays === undefined ? null : ttlDays * 86_400_000;
      const token = await issuePeerToken(ctx.part, peer, { ttlMs });
      await ctx.part.audit.append(
        {
          actor: ctx.owner,
          action: "migration-peer-token-issued",
          details: { peer, ttlDays: ttlDays ?? null },
        },
        ctx.now(),
      );
      return { peer, token };
    },
  );

  scope.post("/migration/port-outs", { schema: { body: portOutRequest } }, async (req) => {
    const { evidence } = req.body as { evidence: string };
    return recordPortOut(ctx, evidence);
  });

  scope.get(
    "/migration/port-outs/:imei",
    {
      onRequest: (req: FastifyRequest) => requireAdmin(ctx, req),
      schema: { params: s.imeiParam },
    },
    async (req) => {
      const r = await portOutOf(ctx, (req.params as { imei: string }).imei);
      if (!r) throw new CarrierError("DEVICE_NOT_FOUND", "no port-out recorded for this IMEI");
      return r;
    },
  );
}

const portOutRequest = {
  type: "object",
  required: ["evidence"],
  additionalProperties: false,
  properties: {
    evidence: s.evidenceRequest.properties.evidence,
    to: { type: "string", maxLength: 32 },
  },
} as const;

const json = (schema: unknown) => ({ "application/json": { schema } });
const error = { description: "error, with a stable code" };

/** The migration routes in the OpenAPI document (added with the carrier's others). */
export function addMigrationPaths(doc: OpenApiDocument): void {
  const id = { $ref: "#/components/parameters/CarrierId" };
  const imei = { $ref: "#/components/parameters/Imei" };
  const base = "/carriers/{id}/migration";
  doc.components.securitySchemes = {
    ...doc.components.securitySchemes,
    peerToken: {
      type: "http",
      scheme: "bearer",
      description: "a migration peer token this carrier issued to another carrier",
    },
  };
  Object.assign(doc.paths, {
    [`${base}/nonce`]: {
      post: {
        summary: "A single-use nonce for migration evidence (to this carrier)",
        operationId: "migrationNonce",
        parameters: [id],
        requestBody: { required: false, content: json(s.nonceRequest) },
        responses: { "200": { description: "the nonce", content: json(s.nonceResponse) } },
      },
    },
    [`${base}/evidence`]: {
      post: {
        summary:
          "Judge migration evidence (asks the platform); approved: a migration verdict, a DM account, the new key waiting for the DM session",
        operationId: "migrationEvidence",
        parameters: [id],
        requestBody: { required: true, content: json(s.evidenceRequest) },
        responses: {
          "200": { description: "a verdict, approved or denied", content: json(s.verdictResponse) },
          "400": error,
          "503": error,
        },
      },
    },
    [`${base}/questions`]: {
      post: {
        summary:
          "A peer carrier asks this carrier directly about one of its devices: genuine, blocked, terminated, subsidy-locked (its migration peer token)",
        operationId: "migrationQuestion",
        security: [{ peerToken: [] }],
        parameters: [id],
        requestBody: { required: true, content: json(s.evidenceRequest) },
        responses: { "200": { description: "the answer" }, "400": error, "401": error },
      },
    },
    [`${base}/peer-tokens`]: {
      post: {
        summary:
          "Issue the token a peer carrier asks this carrier's migration questions with (shown once)",
        operationId: "issueMigrationPeerToken",
        security: [{ adminToken: [] }],
        parameters: [id],
        requestBody: { required: true, content: json(peerTokenRequest) },
        responses: {
          "200": { description: "the token", content: json(peerTokenResponse) },
          "400": error,
          "401": error,
        },
      },
    },
    [`${base}/port-outs`]: {
      post: {
        summary:
          "The new carrier's notice that a device of this carrier moved (the device's migration evidence as proof)",
        operationId: "portOutNotice",
        parameters: [id],
        requestBody: { required: true, content: json(portOutRequest) },
        responses: { "200": { description: "recorded" }, "400": error },
      },
    },
    [`${base}/port-outs/{imei}`]: {
      get: {
        summary: "Whether and where a device of this carrier ported out",
        operationId: "portOut",
        security: [{ adminToken: [] }],
        parameters: [id, imei],
        responses: { "200": { description: "the port-out" }, "401": error, "404": error },
      },
    },
  });
}

const peerTokenRequest = {
  type: "object",
  required: ["peer"],
  additionalProperties: false,
  properties: {
    peer: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,31}$" },
    ttlDays: { type: "integer", minimum: 1, maximum: 3650 },
  },
} as const;

const peerTokenResponse = {
  type: "object",
  required: ["peer", "token"],
  additionalProperties: false,
  properties: { peer: { type: "string" }, token: { type: "string" } },
} as const;
