// Evidence that fails attestation learns nothing of the device it names, through the MDAS
// too: neither the upstream's record (blocked, unknown) nor the enrolment list (NOT_ENROLLED).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Device } from "../../src/device/index.js";
import {
  type CarrierId,
  ENTERPRISE,
  makeStack,
  manufacture,
  type Stack,
} from "../platform/helpers.js";

/** The device's own claims under a broken signature, or with `imei` put in their place. */
async function forged(s: Stack, device: Device, carrier: CarrierId, imei?: string) {
  const n = await s.call(`/enterprises/${ENTERPRISE}/activation/nonce`, { json: { carrier } });
  const { nonce } = (await n.json()) as { nonce: string };
  const { evidence } = await device.verify(nonce, { carrier });
  const [h, p, sig] = evidence.split(".");
  const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
  if (imei !== undefined) claims.imei = imei;
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const broken = `${sig!.startsWith("A") ? "B" : "A"}${sig!.slice(1)}`;
  const res = await s.call(`/enterprises/${ENTERPRISE}/activation/evidence`, {
    json: { evidence: `${h}.${payload}.${broken}` },
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { decision: string; reasons: string[]; dmAccount: unknown };
}

describe("the MDAS withholds what it knows from evidence that fails attestation", () => {
  let s: Stack;
  before(async () => {
    s = await makeStack();
  });
  after(() => s.close());

  for (const carrier of ["acme", "globex"] as const) {
    test(`${carrier}: not enrolled, or an unknown IMEI: ATTESTATION_INVALID alone`, async () => {
      const { device } = await manufacture(s, carrier);
      for (const imei of [undefined, "490154203237518"]) {
        const body = await forged(s, device, carrier, imei);
        assert.equal(body.decision, "denied");
        assert.deepEqual(body.reasons, ["ATTESTATION_INVALID"], imei ?? "its own IMEI");
        assert.equal(body.dmAccount, null);
      }
    });
  }
});
