// Issue 4: "a server killed in the middle of an activation leaves no half-state and the retry
// succeeds once". `dmguard up` is started with one crash point armed (DMGUARD_CRASH_AT, see
// src/carrier/README.md "Crash points"), a device's activation drives it there and the process
// dies by SIGKILL; up is started again on the same data folder, the carrier's record of that
// device must be one whole state, and one retry (`device activate`) must provision it. Then the
// same for the device's own process (`device activate`) killed at its steps. One stack, one
// device per crash point, so each armed point costs one up start.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { activateDevice, openDevice } from "../../src/device/index.js";
import { openStore, type Store, sqliteUrlFor } from "../../src/store/index.js";
import { manufacture, tempDir, type UpProcess } from "../cli/stack-support.js";
import { runCli } from "../support/cli.js";
import {
  adminToken,
  assertActivates,
  assertAuditIntact,
  assertWhole,
  CARRIER,
  carrierRecord,
  deviceStatus,
  lookup,
  portOf,
  upOn,
  type Whole,
} from "./crash-support.js";

/** The carrier's crash points in the order an activation reaches them, and what each leaves. */
const SERVER_POINTS: ReadonlyArray<[string, Whole]> = [
  ["carrier.activation.nonce-issued", "nothing"],
  ["carrier.activation.evidence-checked", "nothing"],
  // Inside the verdict's transaction, after the verdict row and the state: rolled back.
  ["carrier.activation.verdict-recorded", "nothing"],
  ["carrier.activation.committed", "approved"],
  ["carrier.dm.statuses-received", "approved"],
  ["carrier.dm.provisioning-recorded", "provisioned"],
];

/** The device's crash points (its CLI process), and what the carrier holds afterwards. */
const DEVICE_POINTS: ReadonlyArray<[string, Whole]> = [
  ["device.activation.evidence-signed", "nothing"],
  ["device.activation.verdict-accepted", "approved"],
  ["device.dm.profile-received", "approved"],
];

describe("a crash in the middle of an activation", () => {
  let data: Awaited<ReturnType<typeof tempDir>>;
  let devices: Awaited<ReturnType<typeof tempDir>>;
  let up: UpProcess;
  let token: string;
  let store: Store;
  const made = new Map<string, { dir: string; imei: string }>();
  const crashes = new Map<string, { failed: Error | null; signal: NodeJS.Signals | null }>();

  before(async () => {
    data = await tempDir("crash");
    devices = await tempDir("crash-dev");
    up = await upOn(data.path, 0);
    // The same port on every start: the devices keep the server URL they were made with.
    const port = portOf(up);
    const points = [...SERVER_POINTS, ...DEVICE_POINTS].map(([p]) => p);
    for (let i = 0; i < points.length; i += 3) {
      await Promise.all(
        points.slice(i, i + 3).map(async (p) => {
          const dir = join(devices.path, p);
          const { imei } = await manufacture(data.path, dir, ["--carrier", CARRIER]);
          made.set(p, { dir, imei });
        }),
      );
    }
    assert.equal(await up.stop(), 0);
    for (const [point] of SERVER_POINTS) {
      const armed = await upOn(data.path, port, point);
      // In this process (no CLI start-up on the sequential path); the retry is the CLI's.
      const device = await openDevice(made.get(point)!.dir);
      const failed = await activateDevice(device).then(
        () => null,
        (err: Error) => err,
      );
      await device.close();
      // Dead already when the crash point fired; otherwise this stops it, and the test fails.
      await armed.stop();
      crashes.set(point, { failed, signal: armed.signal() });
    }
    up = await upOn(data.path, port);
    token = await adminToken(data.path);
    store = await openStore(sqliteUrlFor(data.path));
  });
  after(async () => {
    await store?.close();
    await up?.stop();
    await data?.remove();
    await devices?.remove();
  });

  test("after every crash the audit chain verifies", async () => {
    await assertAuditIntact(data.path);
  });

  // Each point has its own device, so their checks and retries can overlap.
  describe("each crash point", { concurrency: 3 }, () => {
    for (const [point, whole] of SERVER_POINTS) {
      test(`up killed at ${point} → ${whole}, no half-state; one retry provisions`, async () => {
        const { dir, imei } = made.get(point)!;
        const crash = crashes.get(point)!;
        assert.equal(crash.signal, "SIGKILL", `${point} was never reached`);
        assert.match(String(crash.failed), /cannot reach/, "the device saw the server go");
        const rec = await carrierRecord(store, imei);
        assert.equal(assertWhole(rec, point), whole);
        const seen = await lookup(up.baseUrl, token, imei);
        assert.equal(seen.state, rec.device?.state ?? null);
        assert.equal(seen.networkAccess, rec.access);
        assert.equal(seen.verdicts.length, rec.verdicts.length);

        await assertActivates(dir, point);
        const again = await carrierRecord(store, imei);
        assert.equal(assertWhole(again, point), "provisioned");
        assert.equal(again.verdicts.length, rec.verdicts.length + 1, "one approval, not two");
      });
    }

    for (const [point, whole] of DEVICE_POINTS) {
      test(`device activate killed at ${point} → ${whole}; DEVDIR intact, one retry provisions`, async () => {
        const { dir, imei } = made.get(point)!;
        const r = await runCli(["device", "activate", dir, "--json"], undefined, {
          DMGUARD_CRASH_AT: point,
        });
        assert.equal(r.signal, "SIGKILL", `${point} was never reached: ${r.stderr}`);
        const st = await deviceStatus(dir);
        const accepted = point !== "device.activation.evidence-signed";
        assert.equal(st.toggleKey, accepted ? 0 : 1, "the TSZ kept what it had accepted");
        assert.equal(st.lastVerdict?.verdict ?? null, accepted ? "approved" : null);
        assert.equal(st.profile, null, "no profile without a completed DM session");
        const rec = await carrierRecord(store, imei);
        assert.equal(assertWhole(rec, point), whole);

        await assertActivates(dir, point);
        const again = await carrierRecord(store, imei);
        assert.equal(assertWhole(again, point), "provisioned");
        assert.equal(again.verdicts.length, rec.verdicts.length + 1, "one approval, not two");
        const after = await deviceStatus(dir);
        assert.equal(after.toggleKey, 0);
        assert.equal(after.networkAccess, "full");
        assert.equal(after.profile?.access, "full");
      });
    }
  });

  test("after the retries the audit chain verifies and up stops cleanly", async () => {
    await assertAuditIntact(data.path);
    assert.equal(await up.stop(), 0);
  });
});
