/** JSON schemas of the MDAS's routes: fastify validates with them; OpenAPI shows them. */
import { evidenceRequest, imei, reasons, tenantId } from "../../server-kit/index.js";

export { evidenceRequest };

const party = {
  type: "object",
  properties: { name: { type: "string" }, secret: { type: "string" }, nonce: { type: "string" } },
} as const;
const dmAccount = {
  type: ["object", "null"],
  properties: {
    serverUri: { type: "string" },
    serverId: { type: "string" },
    authType: { type: "string" },
    client: party,
    server: party,
  },
} as const;

export const imeiParam = {
  type: "object",
  required: ["imei"],
  properties: { imei },
} as const;

export const nonceRequest = {
  type: "object",
  additionalProperties: false,
  properties: {
    carrier: tenantId,
    imei,
  },
} as const;

export const nonceResponse = {
  type: "object",
  required: ["nonce", "expiresAt", "carrier"],
  properties: {
    nonce: { type: "string" },
    expiresAt: { type: "string" },
    carrier: { type: "string" },
  },
} as const;

export const activationResponse = {
  type: "object",
  required: [
    "verdict",
    "decision",
    "reasons",
    "networkAccess",
    "carrier",
    "imei",
    "nonce",
    "enterprise",
    "via",
    "integrity",
    "dmAccount",
  ],
  properties: {
    verdict: { type: "string", description: "integrity verdict (compact JWS) for the TSZ" },
    decision: { enum: ["approved", "denied"] },
    reasons,
    networkAccess: { enum: ["full", "limited"] },
    carrier: { type: "string" },
    imei: { type: "string" },
    nonce: { type: "string" },
    enterprise: { type: "string" },
    via: { type: "string" },
    integrity: {
      type: "object",
      properties: { by: { type: "string" }, decision: { enum: ["approved", "denied"] }, reasons },
    },
    dmAccount,
  },
} as const;

export const enrolRequest = {
  type: "object",
  additionalProperties: false,
  properties: {
    user: { type: ["string", "null"], maxLength: 256 },
    userGroup: { type: ["string", "null"], maxLength: 64 },
  },
} as const;
