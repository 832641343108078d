/**
 * JSON Schemas (2020-12 subset that Ajv and OpenAPI 3.1 share) of the carrier routes: fastify
 * validates requests with them, and openapi.ts publishes the same objects, so the document
 * cannot drift from what the server enforces.
 */
import { REASON_CODES } from "../../evidence/index.js";
import { INVENTORY_FIELDS } from "../admin/inventory-row.js";
import { CARRIER_ERRORS } from "../errors.js";

export const imeiParam = {
  type: "object",
  properties: { imei: { type: "string", pattern: "^[0-9]{14,16}$" } },
  required: ["imei"],
} as const;

export const errorBody = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: {
        code: { type: "string", enum: Object.keys(CARRIER_ERRORS) },
        message: { type: "string" },
        details: { type: "object" },
      },
      required: ["code", "message"],
    },
  },
  required: ["error"],
} as const;

export const reasonList = {
  type: "array",
  items: { type: "string", enum: [...REASON_CODES] },
} as const;

export const nonceRequest = {
  type: "object",
  properties: {
    imei: { type: "string", maxLength: 32, description: "the device asking, for the log" },
  },
  additionalProperties: false,
} as const;

export const nonceResponse = {
  type: "object",
  properties: {
    nonce: { type: "string" },
    expiresAt: { type: "string", format: "date-time" },
  },
  required: ["nonce", "expiresAt"],
} as const;

export const evidenceRequest = {
  type: "object",
  properties: {
    evidence: {
      type: "string",
      maxLength: 16384,
      description: "the device's evidence, a compact JWS (src/evidence/EVIDENCE.md)",
    },
  },
  required: ["evidence"],
  additionalProperties: false,
} as const;

export const dmAccount = {
  type: ["object", "null"],
  description:
    "the DM account for the profile session (DMAcc, OMA-TS-DM_StdObj); sent once, never stored in clear",
  properties: {
    serverUri: { type: "string" },
    serverId: { type: "string" },
    authType: { type: "string", enum: ["DIGEST"] },
    client: {
      type: "object",
      properties: {
        name: { type: "string" },
        secret: { type: "string" },
        nonce: { type: "string" },
      },
    },
    server: {
      type: "object",
      properties: {
        name: { type: "string" },
        secret: { type: "string" },
        nonce: { type: "string" },
      },
    },
  },
} as const;

export const verdictResponse = {
  type: "object",
  properties: {
    verdict: { type: "string", description: "signed verdict, compact JWS (EVIDENCE.md)" },
    decision: { type: "string", enum: ["approved", "denied"] },
    reasons: reasonList,
    networkAccess: { type: "string", enum: ["full", "limited"] },
    carrier: { type: "string" },
    imei: { type: "string" },
    nonce: { type: "string" },
    dmAccount,
  },
  required: ["verdict", "decision", "reasons", "networkAccess", "carrier", "imei", "nonce"],
} as const;

export const inventoryRow = {
  type: "object",
  properties: Object.fromEntries(INVENTORY_FIELDS.map((f) => [f, { type: ["string", "null"] }])),
  required: ["imei", "model", "kid"],
} as const;

export const inventoryJson = {
  oneOf: [
    { type: "array", items: inventoryRow },
    {
      type: "object",
      properties: { devices: { type: "array", items: inventoryRow } },
      required: ["devices"],
    },
  ],
} as const;

export const importQuery = {
  type: "object",
  properties: { mode: { type: "string", enum: ["insert", "upsert"] } },
  additionalProperties: false,
} as const;

export const importResponse = {
  type: "object",
  properties: { inserted: { type: "integer" }, updated: { type: "integer" } },
  required: ["inserted", "updated"],
} as const;

/** A P-256 public key for HPKE (DHKEM P-256): a public JWK or the 65-byte point, base64url. */
const hpkeRecipient = {
  oneOf: [
    { type: "string", pattern: "^[A-Za-z0-9_-]{87}$" },
    {
      type: "object",
      properties: {
        kty: { const: "EC" },
        crv: { const: "P-256" },
        x: { type: "string" },
        y: { type: "string" },
      },
      required: ["kty", "crv", "x", "y"],
    },
  ],
} as const;

const wrappedKey = {
  type: "object",
  description: "the key, HPKE-wrapped (RFC 9180; src/keystore/hpke-suite.ts)",
  properties: {
    v: { type: "integer" },
    kem: { type: "integer" },
    kdf: { type: "integer" },
    aead: { type: "integer" },
    owner: { type: "string" },
    kid: { type: "string" },
    enc: { type: "string" },
    ct: { type: "string" },
  },
  required: ["v", "kem", "kdf", "aead", "owner", "kid", "enc", "ct"],
} as const;

export const slotKeyRequest = {
  type: "object",
  properties: {
    hpkePublicKey: { description: "the device TSZ's HPKE public key", ...hpkeRecipient },
    custodyPublicKey: {
      description:
        "optional: the platform's transport key (GET /platform/transport-key); the new key is also wrapped to it, for the carrier's custody deposit",
      ...hpkeRecipient,
    },
  },
  required: ["hpkePublicKey"],
  additionalProperties: false,
} as const;

export const slotKeyResponse = {
  type: "object",
  properties: {
    kid: { type: "string" },
    owner: { type: "string" },
    wrapped: wrappedKey,
    custodyWrapped: { ...wrappedKey, description: "with custodyPublicKey: wrapped to it" },
  },
  required: ["kid", "owner", "wrapped"],
} as const;

export const verdictKeyResponse = {
  type: "object",
  properties: {
    carrier: { type: "string" },
    jwk: {
      type: "object",
      properties: {
        kty: { type: "string" },
        crv: { type: "string" },
        x: { type: "string" },
        y: { type: "string" },
        kid: { type: "string" },
        alg: { type: "string" },
        use: { type: "string" },
      },
    },
  },
  required: ["carrier", "jwk"],
} as const;

export const deviceStatusResponse = {
  type: "object",
  properties: {
    imei: { type: "string" },
    status: { type: "string", enum: ["active", "blocked", "terminated"] },
    networkAccess: { type: ["string", "null"], enum: ["full", "limited", null] },
  },
  required: ["imei", "status", "networkAccess"],
} as const;
