/** JSON schemas of the platform's routes: fastify validates with them; OpenAPI shows them. */
import { evidenceRequest, tenantId as id, imei, reasons } from "../../server-kit/index.js";
import { MAX_BATCH } from "../custody/events.js";

export { evidenceRequest };

export const carrierParam = {
  type: "object",
  required: ["carrier"],
  properties: { carrier: id },
} as const;

export const deviceParams = {
  type: "object",
  required: ["carrier", "imei"],
  properties: { carrier: id, imei },
} as const;

/** A request that carries nothing: no body, or `{}`. */
export const emptyRequest = {
  type: "object",
  additionalProperties: false,
  maxProperties: 0,
} as const;

export const tokenIdParam = {
  type: "object",
  required: ["id"],
  properties: { id: { type: "string", minLength: 1, maxLength: 128 } },
} as const;

export const depositRequest = {
  type: "object",
  required: ["model", "kid", "attestationKey", "wrappedKey"],
  additionalProperties: false,
  properties: {
    meid: { type: ["string", "null"], maxLength: 32 },
    esn: { type: ["string", "null"], maxLength: 16 },
    model: { type: "string", minLength: 1, maxLength: 64 },
    kid: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$" },
    attestationKey: { type: "string", minLength: 1, maxLength: 8192 },
    contractEnd: { type: ["string", "null"], pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" },
    status: { enum: ["active", "blocked", "terminated"] },
    wrappedKey: { type: "object", maxProperties: 16 },
  },
} as const;

export const statusRequest = {
  type: "object",
  additionalProperties: false,
  minProperties: 1,
  properties: {
    status: { enum: ["active", "blocked", "terminated"] },
    contractEnd: { type: ["string", "null"], pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" },
  },
} as const;

/** A carrier's device event (platform sync): status events with a version, or `activated`. */
export const custodyEventRequest = {
  type: "object",
  required: ["event"],
  additionalProperties: false,
  properties: {
    event: { enum: ["blocked", "unblocked", "terminated", "activated"] },
    version: {
      type: "integer",
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description: "the carrier's per-device event version; required for status events",
    },
    activatedAt: {
      type: "string",
      pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,3})?Z$",
      description: "the first approval's time (UTC); required for `activated`",
    },
  },
} as const;

export const custodyEventResponse = {
  type: "object",
  required: ["imei", "status", "activatedAt", "version", "applied"],
  properties: {
    imei: { type: "string" },
    status: { enum: ["active", "blocked", "terminated"] },
    activatedAt: { type: ["string", "null"] },
    version: { type: "integer" },
    applied: { type: "boolean", description: "false: a repeat or late event, nothing changed" },
  },
} as const;

/** Several of a carrier's device events in one request (its outbox's page), each with its IMEI. */
export const custodyEventsRequest = {
  type: "object",
  required: ["events"],
  additionalProperties: false,
  properties: {
    events: {
      type: "array",
      minItems: 1,
      maxItems: MAX_BATCH,
      items: {
        type: "object",
        required: ["imei", "event"],
        additionalProperties: false,
        properties: { imei, ...custodyEventRequest.properties },
      },
    },
  },
} as const;

export const custodyEventsResponse = {
  type: "object",
  required: ["results"],
  properties: {
    results: {
      type: "array",
      description: "one per event, in the request's order: its result, or its error alone",
      items: {
        type: "object",
        required: ["imei"],
        properties: {
          ...custodyEventResponse.properties,
          error: {
            type: "object",
            required: ["code", "message"],
            properties: { code: { type: "string" }, message: { type: "string" } },
          },
        },
      },
    },
  },
} as const;

export const tenantRequest = {
  type: "object",
  required: ["kind", "id"],
  additionalProperties: false,
  properties: {
    kind: { enum: ["carrier", "enterprise"] },
    id,
    carriers: { type: "array", items: id, maxItems: 256 },
  },
} as const;

export const tokenRequest = {
  type: "object",
  required: ["holders", "scopes"],
  additionalProperties: false,
  properties: {
    holders: {
      type: "array",
      minItems: 1,
      maxItems: 64,
      items: {
        type: "string",
        pattern: "^(operator|(carrier|enterprise):[a-z0-9][a-z0-9-]{0,31})$",
      },
    },
    scopes: {
      type: "array",
      minItems: 1,
      items: { enum: ["verify", "migrate", "custody", "operator"] },
    },
    ttlSeconds: { type: "integer", minimum: 1, maximum: 10 * 365 * 86400 },
    label: { type: "string", maxLength: 256 },
  },
} as const;

export const nonceResponse = {
  type: "object",
  required: ["nonce", "expiresAt"],
  properties: { nonce: { type: "string" }, expiresAt: { type: "string" } },
} as const;

export const verificationResponse = {
  type: "object",
  required: ["decision", "reasons", "networkAccess", "carrier", "imei", "nonce", "verdict", "via"],
  properties: {
    decision: { enum: ["approved", "denied"] },
    reasons,
    networkAccess: { enum: ["full", "limited"] },
    carrier: { type: "string" },
    imei: { type: "string" },
    nonce: { type: "string" },
    verdict: { type: "string", description: "compact JWS for the device's TSZ" },
    via: { type: "string" },
  },
} as const;

export const migrationResponse = {
  type: "object",
  required: ["genuine", "blocked", "subsidyLocked", "terminated", "reasons"],
  properties: {
    genuine: { type: "boolean" },
    blocked: { type: "boolean" },
    subsidyLocked: { type: "boolean" },
    terminated: { type: "boolean" },
    reasons,
  },
} as const;

export const issuedTokenResponse = {
  type: "object",
  required: ["id", "token", "expiresAt"],
  properties: {
    id: { type: "string" },
    token: { type: "string", description: "shown once; the platform keeps its SHA-256" },
    expiresAt: { type: ["string", "null"] },
  },
} as const;
