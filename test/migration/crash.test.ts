// The crash matrix of issue 6: the device (`device migrate`), carrier B and the platform (both in
// `dmguard up`) are each killed (SIGKILL, src/fault/crash-point.ts) at every named step of a
// migration acme → globex. Afterwards `device status` shows acme's state alone (acme's slot,
// active, acme's profile) or acme's and globex's keys with globex active and globex's profile —
// never globex's key without its profile; a retry completes exactly once (one globex slot, the
// key globex's records name, one completion in globex's audit), and what follows the migration
// (custody deposit, notice to acme) is delivered in the background, also after a crash. One data
// folder for the whole matrix; the stack is restarted around each server crash.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { StackClient } from "../../src/cli/stack/client.js";
import { manufactureWithStack } from "../../src/cli/stack/factory.js";
import {
  activateDevice,
  closeDefaultTszPool,
  isActivationError,
  isDmClientError,
  migrateDevice,
  openDevice,
} from "../../src/device/index.js";
import { openStore, sqliteUrlFor } from "../../src/store/index.js";
import { startUp, tempDir, type UpProcess } from "../cli/stack-support.js";
import { runCli } from "../support/cli.js";

const DEVICE_POINTS = [
  "device.migration.after-evidence",
  "device.migration.after-verdict",
  "device.migration.after-stage",
  "device.migration.after-deposit",
  "device.migration.after-session",
];
const SERVER_POINTS = [
  "carrier.migration.after-nonce",
  "platform.migration.question-answered",
  "carrier.migration.after-key",
  "carrier.migration.after-commit",
  "carrier.migration.key-status-received",
  "carrier.migration.deposit-recorded",
  "carrier.migration.profile-recorded",
  "carrier.migration.after-custody",
];

interface Status {
  slots: Array<{ index: number; carrier: string; kid: string }>;
  activeCarrier: string | null;
  profile: { carrier: string } | null;
}

describe("migration crash matrix", () => {
  let tmp: { path: string; remove(): Promise<void> };
  let stack: string;
  let up: UpProcess | undefined;
  let n = 0;

  /** `up` on the folder, armed with a crash point when given (the env of the child only). */
  async function start(crashAt?: string): Promise<UpProcess> {
    const saved = process.env.DMGUARD_CRASH_AT;
    if (crashAt) process.env.DMGUARD_CRASH_AT = crashAt;
    try {
      return await startUp(["--data", stack]);
    } finally {
      if (saved === undefined) delete process.env.DMGUARD_CRASH_AT;
      else process.env.DMGUARD_CRASH_AT = saved;
    }
  }

  async function status(dir: string): Promise<Status> {
    const d = await openDevice(dir);
    try {
      return (await d.status()) as unknown as Status;
    } finally {
      await d.close();
    }
  }

  async function lookupGlobex(imei: string): Promise<Record<string, unknown> | null> {
    const client = await StackClient.open(stack);
    return (await client.carrier("globex").lookup(imei)) as Record<string, unknown> | null;
  }

  /** A device of acme, made and activated in this process (the stack's factory line). */
  async function acmeDevice(): Promise<{ dir: string; imei: string; kid: string }> {
    n += 1;
    const dir = join(tmp.path, `phone${n}`);
    const client = await StackClient.open(stack);
    const { device, record } = await manufactureWithStack(client, dir, {
      carrier: "acme",
      model: "dmg-phone-1",
      register: true,
    });
    try {
      const a = await activateDevice(device);
      assert.equal(a.verdict, "approved");
    } finally {
      await device.close();
    }
    return { dir, imei: record.imei, kid: record.kid };
  }

  /** `device migrate` in this process (when the device is not the one killed). */
  async function migrate(dir: string, base: string) {
    const d = await openDevice(dir);
    try {
      return await migrateDevice(d, { to: "carrier:globex", serverUrl: base });
    } finally {
      await d.close();
    }
  }

  /** One of the two states allowed after a crash; returns globex's kid on the device, if any. */
  function assertAllowed(s: Status, acmeKid: string): string | null {
    assert.deepEqual(s.slots[0], { index: 0, carrier: "acme", kid: acmeKid });
    const globex = s.slots.filter((x) => x.carrier === "globex");
    assert.equal(s.slots.length, 1 + globex.length);
    assert.ok(globex.length <= 1, "never two slots for globex");
    if (globex.length === 0) {
      assert.equal(s.activeCarrier, "acme", "without globex's key, acme's state alone");
      assert.equal(s.profile?.carrier, "acme");
      return null;
    }
    assert.equal(s.activeCarrier, "globex", "globex's key comes with globex's verdict");
    assert.equal(s.profile?.carrier, "globex", "globex's key comes with globex's profile");
    return globex[0]!.kid;
  }

  /** The retry completes exactly once, and globex's records agree with the device. */
  async function retryAndCheck(dir: string, imei: string, acmeKid: string, base: string) {
    const r = await migrate(dir, base);
    assert.equal(r.verdict, "approved");
    const s = await status(dir);
    const kid = assertAllowed(s, acmeKid);
    assert.equal(kid, r.slot?.kid);
    assert.equal(s.profile?.carrier, "globex");
    const b = await lookupGlobex(imei);
    assert.ok(b, "globex knows the device");
    assert.equal(b.kid, kid, "globex's inventory names the key the device holds");
    assert.equal(b.state, "provisioned");
    assert.equal(b.networkAccess, "full");
    await assertFinished(imei, kid!);
  }

  /**
   * Once only: globex completed the migration once, deposited its custody copy of the key the
   * device holds, and told acme — in the background, without the device (read from the store).
   */
  async function assertFinished(imei: string, kid: string) {
    const store = await openStore(sqliteUrlFor(stack));
    try {
      const part = store.part("carrier:globex");
      const end = Date.now() + 20_000;
      let row = (await part.kv.get("migrations", imei))?.value as Record<string, unknown>;
      while (!(row?.custodyDeposited && row.sourceNotified) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
        row = (await part.kv.get("migrations", imei))?.value as Record<string, unknown>;
      }
      assert.equal(row?.kid, kid);
      assert.equal(row?.state, "complete");
      assert.equal(row?.custodyDeposited, true, "globex's custody copy deposited");
      assert.equal(row?.sourceNotified, true, "acme told");
      const audit = await part.audit.list({ limit: 10_000 });
      const done = audit.filter((e) => e.subject === imei && e.action === "migration-complete");
      assert.equal(done.length, 1, "the migration completed exactly once");
      const out = await store.part("carrier:acme").kv.get("ported-out", imei);
      assert.equal((out?.value as { to?: string } | undefined)?.to, "globex");
    } finally {
      await store.close();
    }
  }

  before(async () => {
    tmp = await tempDir("migrate-crash");
    stack = join(tmp.path, "stack");
  });
  after(async () => {
    await closeDefaultTszPool();
    await up?.stop();
    await tmp?.remove();
  });

  test("the device killed at each step", async () => {
    up = await start();
    try {
      for (const point of DEVICE_POINTS) {
        await deviceCrash(point, up.baseUrl).catch((err: unknown) => {
          throw new Error(`${point}: ${(err as Error).message}`, { cause: err });
        });
      }
    } finally {
      await up.stop();
      up = undefined;
    }
  });

  async function deviceCrash(point: string, base: string) {
    const d = await acmeDevice();
    const r = await runCli(
      ["device", "migrate", d.dir, "--to", "carrier:globex", "--json"],
      undefined,
      { DMGUARD_CRASH_AT: point },
    );
    assert.equal(r.signal, "SIGKILL", `${point} was reached`);
    const kid = assertAllowed(await status(d.dir), d.kid);
    if (
      point === "device.migration.after-evidence" ||
      point === "device.migration.after-verdict" ||
      point === "device.migration.after-stage"
    ) {
      assert.equal(kid, null, `${point}: nothing deposited yet`);
    } else {
      assert.ok(kid !== null, `${point}: the key is in`);
    }
    await retryAndCheck(d.dir, d.imei, d.kid, base);
  }

  for (const point of SERVER_POINTS) {
    test(`the server killed at ${point}`, async () => {
      // Armed from the start: the point is only on the migration path.
      const armed = await start(point);
      up = armed;
      try {
        const d = await acmeDevice();
        const r = await migrate(d.dir, armed.baseUrl).then(
          () => null,
          (err: unknown) => err,
        );
        const code = await Promise.race([
          armed.exited,
          new Promise<"alive">((res) => setTimeout(() => res("alive"), 5_000)),
        ]);
        assert.notEqual(code, "alive", `${point} was reached: the stack died`);
        up = undefined;
        // Killed before it answered the device: a typed error, nothing else.
        if (r !== null) assert.ok(isActivationError(r) || isDmClientError(r), String(r));
        assertAllowed(await status(d.dir), d.kid);
        up = await start();
        await retryAndCheck(d.dir, d.imei, d.kid, up.baseUrl);
      } finally {
        await up?.stop();
        up = undefined;
      }
    });
  }
});
