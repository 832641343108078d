import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import fc from "fast-check";
import { type Device, type DeviceErrorCode, TszPool } from "../../src/device/index.js";
import { parseRequest } from "../../src/device/tsz/messages.js";
import { sealedStatePath } from "../../src/device/tsz/sealed-store.js";
import { TszService } from "../../src/device/tsz/service.js";
import { makeDevice, nonce, signVerdict, useLab } from "./helpers.js";

let pool: TszPool;
let device: Device;
let imei: string;
useLab({
  setup: async (lab) => {
    pool = new TszPool({ size: 1 });
    const made = await makeDevice(lab, { pool });
    device = made.device;
    imei = made.record.imei;
    // Approve it, so that a factory reset or a verdict slipping through would show.
    const n = nonce();
    await device.verify(n);
    await device.acceptVerdict(await signVerdict(lab.verdictKey, { eat_nonce: n, imei }));
  },
  teardown: async () => {
    await device.close();
    await pool.close();
  },
});

async function snapshot(): Promise<{ sealed: string; status: string; allowed: boolean }> {
  return {
    sealed: (await readFile(sealedStatePath(device.dir))).toString("base64"),
    status: JSON.stringify(await device.tsz.status()),
    allowed: await device.mayProvision(),
  };
}

describe("the TSZ message API refuses malformed messages and changes nothing", () => {
  test("a table of malformed messages → typed errors, state unchanged", async () => {
    const session = device.tsz.session;
    const cases: Array<[unknown, DeviceErrorCode]> = [
      [null, "TSZ_BAD_REQUEST"],
      [42, "TSZ_BAD_REQUEST"],
      ["factoryReset", "TSZ_BAD_REQUEST"],
      [[{ op: "factoryReset", session }], "TSZ_BAD_REQUEST"],
      [{}, "TSZ_BAD_REQUEST"],
      [{ op: 7, session }, "TSZ_BAD_REQUEST"],
      [{ op: "format-flash", session }, "TSZ_BAD_REQUEST"],
      [{ op: "factoryReset" }, "TSZ_BAD_REQUEST"],
      [{ op: "factoryReset", session: "short" }, "TSZ_BAD_REQUEST"],
      [{ op: "factoryReset", session, toggle: 0 }, "TSZ_BAD_REQUEST"],
      [{ op: "factoryReset", session: "A".repeat(24) }, "TSZ_SESSION_UNKNOWN"],
      [
        JSON.parse(`{"__proto__": {"op": "factoryReset"}, "session": "${session}"}`),
        "TSZ_BAD_REQUEST",
      ],
      [
        { op: "verify", session, nonce: "short", reported: { imei, meid: null }, carrier: null },
        "NONCE_INVALID",
      ],
      [{ op: "verify", session, nonce: nonce(), reported: "x", carrier: null }, "TSZ_BAD_REQUEST"],
      [
        { op: "verify", session, nonce: nonce(), reported: { imei, meid: null }, carrier: "ACME!" },
        "TSZ_BAD_REQUEST",
      ],
      [{ op: "acceptVerdict", session, jws: 42 }, "TSZ_BAD_REQUEST"],
      [{ op: "acceptVerdict", session, jws: "a".repeat(20_000) }, "TSZ_BAD_REQUEST"],
      [{ op: "acceptVerdict", session, jws: "not.a.jws" }, "VERDICT_MALFORMED"],
      [{ op: "installCertificate", session, certificatePem: "x" }, "TSZ_WRONG_PHASE"],
      [{ op: "open", dir: "relative/path" }, "TSZ_BAD_REQUEST"],
      [{ op: "manufacture", dir: device.dir, spec: {} }, "TSZ_BAD_REQUEST"],
      [{ op: "manufacture", dir: `${device.dir}-x`, spec: { slotCount: 7 } }, "TSZ_BAD_REQUEST"],
      [{ op: "factoryReset", session: () => session }, "TSZ_BAD_REQUEST"],
    ];
    const before = await snapshot();
    for (const [body, code] of cases) {
      const r = await pool.call(device.tsz.lane, body);
      assert.equal(r.ok, false, JSON.stringify(body));
      if (!r.ok)
        assert.equal(
          r.error.code,
          code,
          `${JSON.stringify(body)?.slice(0, 80)}: ${r.error.message}`,
        );
    }
    assert.deepEqual(await snapshot(), before);
    assert.equal(before.allowed, true);
  });

  test("a well-formed request on the same channel still works afterwards", async () => {
    const r = await pool.call(device.tsz.lane, { op: "mayProvision", session: device.tsz.session });
    assert.deepEqual(r, { ok: true, result: { allowed: true } });
  });

  test("the service never throws, whatever it is sent (property)", async () => {
    const service = new TszService();
    await fc.assert(
      fc.asyncProperty(
        fc.anything({ withObjectString: true, withNullPrototype: true }),
        async (body) => {
          const r = await service.handle(body);
          // A typed refusal, never an internal error (and never a throw).
          return r.ok === false && r.error.code !== "TSZ_INTERNAL";
        },
      ),
      { numRuns: 500 },
    );
    assert.deepEqual(service.counts, { sessions: 0, devices: 0 });
  });

  test("parseRequest keeps own fields only and names the fault", () => {
    assert.throws(() => parseRequest({ op: "verify" }), /session is not valid/);
    const r = parseRequest({ op: "status", session: "A".repeat(24) });
    assert.deepEqual(r, { op: "status", session: "A".repeat(24) });
  });
});
