import * as s from "./schemas.js";

/** The OpenAPI document as the root app keeps it (src/carrier/http/openapi.ts); paths only. */
export interface PathsDocument {
  paths: Record<string, Record<string, unknown>>;
}

const json = (schema: unknown) => ({ "application/json": { schema } });
const err = { description: "error, with a stable code", content: json({ type: "object" }) };
const bearer = [{ platformToken: [] }];

function op(
  summary: string,
  opts: { body?: unknown; ok?: unknown; auth?: boolean; errs?: number[] },
) {
  return {
    summary,
    ...(opts.auth ? { security: bearer } : {}),
    ...(opts.body ? { requestBody: { required: true, content: json(opts.body) } } : {}),
    responses: {
      "200": { description: "ok", content: json(opts.ok ?? { type: "object" }) },
      ...Object.fromEntries((opts.errs ?? [400, 401]).map((c) => [String(c), err])),
    },
  };
}

/** Adds the platform's routes (the document is served at GET /openapi.json). */
export function addPlatformPaths(doc: PathsDocument): void {
  const p = "/platform";
  Object.assign(doc.paths, {
    [`${p}/transport-key`]: {
      get: op("The platform keystore's HPKE public key (custody deposits wrap to it)", {
        errs: [],
      }),
    },
    [`${p}/carriers/{carrier}/verdict-key`]: {
      get: op("The key the platform signs verdicts with in this carrier's custody (to pin)", {
        errs: [404],
      }),
    },
    [`${p}/custody/{carrier}/devices/{imei}`]: {
      put: op("Deposit a device record and its wrapped slot key (scope custody)", {
        body: s.depositRequest,
        auth: true,
        errs: [400, 401, 409],
      }),
    },
    [`${p}/custody/{carrier}/devices/{imei}/status`]: {
      post: op("Mark a deposited device (block, unblock, terminate, contract end; scope custody)", {
        body: s.statusRequest,
        auth: true,
        errs: [400, 401, 404],
      }),
    },
    [`${p}/custody/{carrier}/devices/{imei}/events`]: {
      post: op(
        "A carrier's device event (blocked, unblocked, terminated with its version; activated " +
          "with its date); a repeat or late event changes nothing (scope custody)",
        {
          body: s.custodyEventRequest,
          ok: s.custodyEventResponse,
          auth: true,
          errs: [400, 401, 404],
        },
      ),
    },
    [`${p}/custody/{carrier}/events`]: {
      post: op(
        "Several of a carrier's device events at once (each as …/devices/{imei}/events takes " +
          "it); answered one by one, in order, a device not in custody as its own error " +
          "(scope custody)",
        {
          body: s.custodyEventsRequest,
          ok: s.custodyEventsResponse,
          auth: true,
          errs: [400, 401],
        },
      ),
    },
    [`${p}/verifications/nonce`]: {
      post: op("A one-time nonce for a device's evidence (scope verify)", {
        ok: s.nonceResponse,
        auth: true,
        errs: [401],
      }),
    },
    [`${p}/verifications`]: {
      post: op(
        "Verify forwarded evidence: yes/no with reasons and the TSZ's verdict (scope verify)",
        {
          body: s.evidenceRequest,
          ok: s.verificationResponse,
          auth: true,
        },
      ),
    },
    [`${p}/migration/questions`]: {
      post: op("Genuine, blocked, subsidy-locked, terminated? (scope migrate)", {
        body: s.evidenceRequest,
        ok: s.migrationResponse,
        auth: true,
      }),
    },
    [`${p}/tenants`]: {
      post: op("Register a carrier or an enterprise (scope operator)", {
        body: s.tenantRequest,
        auth: true,
      }),
    },
    [`${p}/tokens`]: {
      post: op("Issue a token (scope operator)", {
        body: s.tokenRequest,
        ok: s.issuedTokenResponse,
        auth: true,
      }),
    },
    [`${p}/tokens/{id}/rotate`]: {
      post: op("Rotate a token: a new one, the old revoked (scope operator)", {
        ok: s.issuedTokenResponse,
        auth: true,
        errs: [401, 404],
      }),
    },
    [`${p}/tokens/{id}/revoke`]: {
      post: op("Revoke a token (scope operator)", { auth: true, errs: [401, 404] }),
    },
  });
}
