/**
 * JSON schemas more than one server's routes use alike (fastify validates with them; each
 * server's OpenAPI document shows them). Each server's http/schemas.ts keeps its own.
 */

/** CONTRACT.md's IMEI shape: 14 to 16 digits. */
export const imei = { type: "string", pattern: "^[0-9]{14,16}$" } as const;

/** A carrier or enterprise id (carrier/context.ts CARRIER_ID_PATTERN). */
export const tenantId = { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,31}$" } as const;

/** Reason codes, as answers list them. */
export const reasons = { type: "array", items: { type: "string" } } as const;

/** The body of every route that takes a device's evidence (a compact JWS, EVIDENCE.md). */
export const evidenceRequest = {
  type: "object",
  required: ["evidence"],
  additionalProperties: false,
  properties: { evidence: { type: "string", minLength: 1, maxLength: 16384 } },
} as const;
