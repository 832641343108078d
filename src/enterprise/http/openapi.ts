import * as s from "./schemas.js";

export interface PathsDocument {
  paths: Record<string, Record<string, unknown>>;
}

const json = (schema: unknown) => ({ "application/json": { schema } });
const err = { description: "error, with a stable code", content: json({ type: "object" }) };
const errs = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), err]));
const ok = (schema: unknown = { type: "object" }) => ({
  "200": { description: "ok", content: json(schema) },
});
const admin = [{ enterpriseAdminToken: [] }];

/** Adds one enterprise's routes to the root's OpenAPI document. */
export function addEnterprisePaths(doc: PathsDocument, id: string): void {
  const p = `/enterprises/${id}`;
  const dm = ["application/vnd.syncml.dm+xml", "application/vnd.syncml.dm+wbxml"];
  Object.assign(doc.paths, {
    [`${p}/activation/nonce`]: {
      post: {
        summary: "A nonce from the carrier server or platform that will judge the evidence",
        requestBody: { required: false, content: json(s.nonceRequest) },
        responses: { ...ok(s.nonceResponse), ...errs(400, 502) },
      },
    },
    [`${p}/activation/evidence`]: {
      post: {
        summary:
          "Activation through the enterprise: integrity verdict forwarded (its signature checked " +
          "under the upstream's verdict key; 502 VERDICT_INVALID otherwise), then eligibility",
        requestBody: { required: true, content: json(s.evidenceRequest) },
        responses: { ...ok(s.activationResponse), ...errs(400, 502) },
      },
    },
    [`${p}/enrolment`]: {
      post: {
        summary: "Import an enrolment list (JSON or CSV: imei,user,userGroup); all rows or none",
        security: admin,
        requestBody: {
          required: true,
          content: { ...json({ type: "array" }), "text/csv": { schema: { type: "string" } } },
        },
        responses: { ...ok(), ...errs(400, 401, 413, 415) },
      },
    },
    [`${p}/enrolment/{imei}`]: {
      get: {
        summary: "One enrolled device and its state",
        security: admin,
        responses: { ...ok(), ...errs(401, 404) },
      },
      put: {
        summary: "Enroll one device (dmguard enterprise enroll)",
        security: admin,
        requestBody: { required: false, content: json(s.enrolRequest) },
        responses: { ...ok(), ...errs(400, 401) },
      },
      delete: {
        summary: "Unenroll one device",
        security: admin,
        responses: { ...ok(), ...errs(401, 404) },
      },
    },
    [`${p}/dm`]: {
      post: {
        summary: "OMA DM server of the MDAS (group content, ENTERPRISE_MO.md)",
        requestBody: {
          required: true,
          content: Object.fromEntries(
            dm.map((t) => [t, { schema: { type: "string", format: "binary" } }]),
          ),
        },
        responses: {
          "200": { description: "SyncML answer in the request's encoding" },
          ...errs(400, 415),
        },
      },
    },
  });
}
