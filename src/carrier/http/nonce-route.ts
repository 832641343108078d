import type { FastifyInstance } from "fastify";
import type { CarrierContext } from "../context.js";
import * as s from "./schemas.js";

/**
 * `POST <path>`: a fresh single-use nonce (DESIGN.md step 4) for activation or migration, the
 * same route shape for both. `onIssued` runs once the nonce is stored (the crash tests' hook).
 */
export function registerNonceRoute(
  scope: FastifyInstance,
  ctx: CarrierContext,
  path: string,
  onIssued: () => void = () => undefined,
): void {
  scope.post(
    path,
    {
      // A bare POST (no body) is the usual request: validate it as an empty object.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      schema: { body: s.nonceRequest, response: { 200: s.nonceResponse } },
    },
    async (req) => {
      const body = (req.body ?? {}) as { imei?: string };
      const n = await ctx.part.nonces.issue({
        ttlMs: ctx.nonceTtlMs,
        subject: body.imei ?? null,
        now: ctx.now(),
      });
      onIssued();
      return { nonce: n.nonce, expiresAt: new Date(n.expiresAt).toISOString() };
    },
  );
}
