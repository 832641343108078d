import * as s from "./schemas.js";

/**
 * The OpenAPI 3.1 document served at GET /openapi.json: the common routes, plus the routes of
 * every part mounted on the app (each adds its paths once; carriers add their id to the `id`
 * parameter's enum). Request and response bodies are the very schemas fastify validates with.
 */
export interface OpenApiDocument {
  openapi: "3.1.0";
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, unknown>>;
  components: Record<string, Record<string, unknown>>;
}

const json = (schema: unknown) => ({ "application/json": { schema } });
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      String(c),
      {
        description: "error, with a stable code",
        content: json({ $ref: "#/components/schemas/Error" }),
      },
    ]),
  );
const bearer = [{ adminToken: [] }];

export function baseDocument(): OpenApiDocument {
  return {
    openapi: "3.1.0",
    info: {
      title: "dmguard",
      version: "0.1.0",
      description:
        "Verification of mobile device integrity during activation (US 9,226,145): carrier activation, OMA DM profile delivery, administration.",
    },
    paths: {
      "/healthz": {
        get: {
          summary: "Liveness and store reachability",
          responses: {
            "200": { description: "ok", content: json({ type: "object" }) },
            ...errors(503),
          },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics (text exposition format 0.0.4)",
          responses: {
            "200": {
              description: "metrics",
              content: { "text/plain": { schema: { type: "string" } } },
            },
          },
        },
      },
      "/openapi.json": {
        get: {
          summary: "This document",
          responses: { "200": { description: "OpenAPI 3.1", content: json({ type: "object" }) } },
        },
      },
    },
    components: {
      schemas: { Error: s.errorBody },
      securitySchemes: {
        adminToken: { type: "http", scheme: "bearer", description: "a carrier admin token" },
      },
    },
  };
}

/** Adds the carrier routes (once) and `carrierId` to the `id` enum. */
export function addCarrierPaths(doc: OpenApiDocument, carrierId: string): void {
  const ids = ((
    doc.components.parameters as Record<string, { schema: { enum: string[] } }> | undefined
  )?.CarrierId?.schema.enum ?? []) as string[];
  if (!ids.includes(carrierId)) ids.push(carrierId);
  doc.components.parameters = {
    ...doc.components.parameters,
    CarrierId: { name: "id", in: "path", required: true, schema: { type: "string", enum: ids } },
    Imei: { name: "imei", in: "path", required: true, schema: s.imeiParam.properties.imei },
  };
  const id = { $ref: "#/components/parameters/CarrierId" };
  const imei = { $ref: "#/components/parameters/Imei" };
  const base = "/carriers/{id}";
  const device = (summary: string, action: string) => ({
    post: {
      summary,
      operationId: action,
      security: bearer,
      parameters: [id, imei],
      responses: {
        "200": { description: "done", content: json(s.deviceStatusResponse) },
        ...errors(401, 404),
      },
    },
  });
  Object.assign(doc.paths, {
    [`${base}/activation/nonce`]: {
      post: {
        summary: "A single-use activation nonce (DESIGN.md step 4)",
        operationId: "activationNonce",
        parameters: [id],
        requestBody: { required: false, content: json(s.nonceRequest) },
        responses: {
          "200": { description: "the nonce", content: json(s.nonceResponse) },
          ...errors(400, 415),
        },
      },
    },
    [`${base}/activation/evidence`]: {
      post: {
        summary: "Judge a device's evidence; answer a signed verdict (DESIGN.md step 5)",
        operationId: "activationEvidence",
        parameters: [id],
        requestBody: { required: true, content: json(s.evidenceRequest) },
        responses: {
          "200": { description: "a verdict, approved or denied", content: json(s.verdictResponse) },
          ...errors(400, 413, 415),
        },
      },
    },
    [`${base}/dm`]: {
      post: {
        summary: "OMA DM 1.2 server (client-initiated sessions; OMA-TS-DM_HTTPBinding)",
        operationId: "omaDm",
        parameters: [id],
        requestBody: {
          required: true,
          content: {
            "application/vnd.syncml.dm+xml": { schema: { type: "string" } },
            "application/vnd.syncml.dm+wbxml": { schema: { type: "string", format: "binary" } },
          },
        },
        responses: {
          "200": { description: "the next SyncML DM message, in the request's encoding" },
          "400": { description: "malformed SyncML (text/plain)" },
          "413": { description: "too large" },
          "415": { description: "not a SyncML DM media type" },
        },
      },
    },
    [`${base}/verdict-key`]: {
      get: {
        summary: "The carrier's verdict public key, for devices to pin at manufacture",
        operationId: "verdictKey",
        parameters: [id],
        responses: { "200": { description: "public JWK", content: json(s.verdictKeyResponse) } },
      },
    },
    [`${base}/slot-keys`]: {
      post: {
        summary: "A new slot security key, HPKE-wrapped to the device TSZ (manufacture)",
        operationId: "issueSlotKey",
        security: bearer,
        parameters: [id],
        requestBody: { required: true, content: json(s.slotKeyRequest) },
        responses: {
          "200": { description: "kid and wrapped key", content: json(s.slotKeyResponse) },
          ...errors(400, 401),
        },
      },
    },
    [`${base}/inventory`]: {
      post: {
        summary: "Import devices (JSON or CSV); all rows or none",
        operationId: "importInventory",
        security: bearer,
        parameters: [id, { name: "mode", in: "query", schema: s.importQuery.properties.mode }],
        requestBody: {
          required: true,
          content: {
            ...json(s.inventoryJson),
            "text/csv": {
              schema: {
                type: "string",
                description: `header line of columns: ${s.inventoryRow.required.join(",")} and optional others`,
              },
            },
          },
        },
        responses: {
          "200": { description: "counts", content: json(s.importResponse) },
          ...errors(400, 401, 413, 415),
        },
      },
    },
    [`${base}/devices/{imei}`]: {
      get: {
        summary: "A device: inventory record, activation state, access, recent verdicts",
        operationId: "lookupDevice",
        security: bearer,
        parameters: [id, imei],
        responses: {
          "200": { description: "the device", content: json({ type: "object" }) },
          ...errors(401, 404),
        },
      },
    },
    [`${base}/devices/{imei}/block`]: device("Mark lost or stolen", "blockDevice"),
    [`${base}/devices/{imei}/unblock`]: device("Clear the lost/stolen mark", "unblockDevice"),
    [`${base}/devices/{imei}/terminate`]: device(
      "End service: off the network access permission list",
      "terminateDevice",
    ),
  });
}
