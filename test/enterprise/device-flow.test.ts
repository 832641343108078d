// The device's own activation flow through the enterprise (src/device/activation/activate.ts),
// against the real stack: the MDAS's DM session in WBXML (application/vnd.syncml.dm+wbxml both
// ways) provisions the group content, and the device's status then shows the MDAS's answer
// while the TSZ's toggle key reflects integrity only.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { activateDevice } from "../../src/device/index.js";
import { fetchTransport } from "../../src/omadm/http/index.js";
import type { DmTransport } from "../../src/omadm/session/index.js";
import { ENTERPRISE, makeStack, manufacture, type Stack } from "../platform/helpers.js";

const WBXML = "application/vnd.syncml.dm+wbxml";

/** The HTTP transport, recording each exchange's media types and the URL it went to. */
function recording(): {
  transport: DmTransport;
  seen: Array<{ url: string; req: string; res: string }>;
} {
  const inner = fetchTransport();
  const seen: Array<{ url: string; req: string; res: string }> = [];
  return {
    seen,
    transport: async (req) => {
      const res = await inner(req);
      seen.push({ url: req.url, req: req.mediaType, res: res.mediaType });
      return res;
    },
  };
}

describe("the device through the enterprise (activateDevice)", () => {
  let s: Stack;
  before(async () => {
    s = await makeStack();
  });
  after(() => s.close());

  for (const carrier of ["acme", "globex"] as const) {
    test(`${carrier}: the MDAS's DM session in WBXML provisions the group content`, async () => {
      const { device } = await manufacture(s, carrier, { enrol: "technology" });
      const { transport, seen } = recording();
      const r = await activateDevice(device, {
        via: `enterprise:${ENTERPRISE}`,
        encoding: "wbxml",
        dmTransport: transport,
      });
      assert.equal(r.verdict, "approved");
      assert.equal(r.networkAccess, "full");
      assert.equal(r.via, `enterprise:${ENTERPRISE}`);
      const profile = r.profile as { userGroup: string; apps: string[]; enterprise: string };
      assert.equal(profile.enterprise, ENTERPRISE);
      assert.equal(profile.userGroup, "technology");
      assert.ok(profile.apps.includes("ssh-client"));
      // Every package went to the MDAS's DM endpoint and came back, in WBXML.
      assert.ok(seen.length >= 2, JSON.stringify(seen));
      for (const x of seen) {
        assert.match(x.url, new RegExp(`/enterprises/${ENTERPRISE}/dm`));
        assert.equal(x.req, WBXML);
        assert.match(x.res, /^application\/vnd\.syncml\.dm\+wbxml/);
      }
      assert.equal(r.dmSession?.refused, 0);
      assert.ok((r.dmSession?.commands ?? 0) > 0);
      // The MDAS marks it provisioned once the session applied the content.
      const st = (await (
        await s.call(`/enterprises/${ENTERPRISE}/enrolment/${(await device.status()).imei}`, {
          token: s.enterpriseAdmin,
        })
      ).json()) as { state: string; networkAccess: string };
      assert.deepEqual([st.state, st.networkAccess], ["provisioned", "full"]);
    });
  }

  test("status after an enterprise activation shows the MDAS's answer; the toggle key, integrity", async () => {
    const { device } = await manufacture(s, "globex");
    const r = await activateDevice(device, { via: `enterprise:${ENTERPRISE}` });
    assert.equal(r.verdict, "denied");
    assert.deepEqual(r.reasons, ["NOT_ENROLLED"]);
    const st = await device.status();
    assert.equal(st.toggleKey, 0, "integrity was approved: the TSZ lets provisioning through");
    assert.equal(st.networkAccess, "limited");
    assert.equal(st.activeCarrier, null);
    assert.deepEqual(st.lastVerdict, {
      verdict: "denied",
      reasons: ["NOT_ENROLLED"],
      toggleKey: 0,
      networkAccess: "limited",
      carrier: "globex",
      via: `enterprise:${ENTERPRISE}`,
      profile: null,
    });
    // A later activation with the carrier itself: status shows that one again.
    const direct = await activateDevice(device, { via: "carrier:globex" });
    assert.equal(direct.verdict, "approved");
    const after = await device.status();
    assert.equal(after.lastVerdict?.via, "carrier:globex");
    assert.equal(after.lastVerdict?.verdict, "approved");
    assert.equal(after.networkAccess, "full");
    // And a factory reset forgets both.
    await device.factoryReset();
    assert.equal((await device.status()).lastVerdict, null);
  });
});
