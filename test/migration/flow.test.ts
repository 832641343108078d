// Migration from acme to globex, in process over real HTTP: the clean flow and each refusal,
// with the device's and both carriers' records checked afterwards.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  activateDevice,
  DEVICE_PATHS,
  type Device,
  isActivationError,
  isDeviceError,
  isDmClientError,
  migrateDevice,
  tamperDevice,
} from "../../src/device/index.js";
import { importRecipientPublicKey, sealDeviceKey } from "../../src/keystore/hpke-suite.js";
import { getRecord } from "../../src/platform/custody/records.js";
import {
  activeDevice,
  lookup,
  type MigrationStack,
  makeMigrationStack,
  manufacture,
  migrationDelivered,
  setCustody,
} from "./helpers.js";

const DAY_MS = 86_400_000;

/** Fills every free slot of the device with keys of made-up carriers. */
async function fillSlots(device: Device, leave = 0): Promise<void> {
  const st = await device.tsz.status();
  const pk = await importRecipientPublicKey(await device.hpkePublicKey());
  for (let i = st.slots.length; i < st.slotCount - leave; i++) {
    const kid = randomBytes(8).toString("hex");
    await device.depositKey(
      `filler${i}`,
      await sealDeviceKey(pk, `carrier:filler${i}`, kid, new Uint8Array(randomBytes(32))),
    );
  }
}

for (const backend of ["sqlite", "postgres"] as const) {
  describe(`migration acme → globex (${backend})`, () => {
    let s: MigrationStack;
    before(async () => {
      s = await makeMigrationStack({
        backend,
        policies: {
          acme: { subsidyLock: "until-contract-end", terminatedMayPortOut: false },
          globex: { subsidyLock: "days-after-activation:60", terminatedMayPortOut: true },
        },
      });
    });
    after(() => s.close());

    test("clean: a new slot with globex's key, globex's profile, both carriers' records", async () => {
      const { device, record } = await activeDevice(s, "acme");
      const before = await device.status();
      assert.equal(before.activeCarrier, "acme");
      const r = await migrateDevice(device, { to: "carrier:globex" });
      assert.equal(r.verdict, "approved");
      assert.deepEqual(r.reasons, []);
      assert.equal(r.carrier, "globex");
      assert.equal(r.from, "acme");
      assert.equal(r.toggleKey, 0);
      assert.equal(r.networkAccess, "full");
      assert.equal((r.profile as { carrier: string }).carrier, "globex");

      const st = await device.status();
      assert.equal(st.activeCarrier, "globex");
      assert.equal(st.slots.length, 2);
      assert.deepEqual(st.slots[0], before.slots[0]);
      assert.equal(st.slots[1]!.carrier, "globex");
      assert.equal(st.slots[1]!.kid, r.slot!.kid);
      assert.equal((st.profile as { carrier: string }).carrier, "globex");

      const b = await lookup(s, "globex", record.imei);
      assert.equal(b.status, 200);
      assert.equal(b.body.kid, r.slot!.kid);
      assert.equal(b.body.state, "provisioned");
      assert.equal(b.body.networkAccess, "full");
      // The custody deposit and the notice to acme are delivered in the background.
      await migrationDelivered(s);
      const a = await lookup(s, "acme", record.imei);
      assert.equal(a.body.networkAccess, "full");
      assert.equal(a.body.portedOutTo, "globex", "acme was told");
      const custody = await getRecord(s.platform, "globex", record.imei);
      assert.equal(custody?.kid, r.slot!.kid, "globex deposited its custody copy at the platform");
      const po = await s.call(`/carriers/acme/migration/port-outs/${record.imei}`, {
        token: s.carrierAdmin.acme,
      });
      assert.equal(po.status, 200);
      assert.equal(((await po.json()) as { to: string }).to, "globex");

      // The subscriber ends service with acme: off acme's permission list.
      const t = await s.call(`/carriers/acme/devices/${record.imei}/terminate`, {
        method: "POST",
        token: s.carrierAdmin.acme,
      });
      assert.equal(t.status, 200);
      assert.equal((await lookup(s, "acme", record.imei)).body.networkAccess, null);
      assert.equal((await lookup(s, "globex", record.imei)).body.networkAccess, "full");
      await device.close();
    });

    test("before the contract end: SUBSIDY_LOCKED, nothing changed", async () => {
      const { device, record } = await activeDevice(s, "acme", { contractEnd: "2999-12-31" });
      const before = await device.status();
      const r = await migrateDevice(device, { to: "carrier:globex" });
      assert.equal(r.verdict, "denied");
      assert.deepEqual(r.reasons, ["SUBSIDY_LOCKED"]);
      // The device's access after the command: still acme's full access, not globex's "limited".
      assert.equal(before.networkAccess, "full");
      assert.equal(r.networkAccess, "full");
      assert.equal(r.toggleKey, 0);
      assert.deepEqual(await device.status(), before);
      assert.equal((await lookup(s, "globex", record.imei)).status, 404);
      await device.close();
    });

    test("blocked at acme: DEVICE_BLOCKED, nothing changed", async () => {
      const { device, record } = await activeDevice(s, "acme");
      await setCustody(s, "acme", record.imei, { status: "blocked" });
      const before = await device.status();
      const r = await migrateDevice(device, { to: "carrier:globex" });
      assert.equal(r.verdict, "denied");
      assert.deepEqual(r.reasons, ["DEVICE_BLOCKED"]);
      assert.deepEqual(await device.status(), before);
      assert.equal((await lookup(s, "globex", record.imei)).status, 404);
      await device.close();
    });

    test("tampered: its reasons, nothing changed", async () => {
      const { device, record } = await activeDevice(s, "acme");
      await tamperDevice(device.dir, "su");
      const before = await device.status();
      const r = await migrateDevice(device, { to: "carrier:globex" });
      assert.equal(r.verdict, "denied");
      assert.deepEqual(r.reasons, ["ROOT_SU"]);
      assert.equal(r.networkAccess, before.networkAccess, "the access acme gave, unchanged");
      assert.deepEqual(await device.status(), before);
      assert.equal((await lookup(s, "globex", record.imei)).status, 404);
      await device.close();
    });

    test("never activated and tampered: denied; its access reads limited (CONTRACT has no none)", async () => {
      const { device, record } = await manufacture(s, "acme");
      await tamperDevice(device.dir, "su");
      const before = await device.status();
      assert.equal(before.networkAccess, "none");
      const r = await migrateDevice(device, { to: "carrier:globex" });
      assert.equal(r.verdict, "denied");
      assert.ok(r.reasons.includes("ROOT_SU"), r.reasons.join(" "));
      assert.equal(r.networkAccess, "limited");
      assert.equal(r.toggleKey, 1);
      assert.deepEqual(await device.status(), before);
      assert.equal((await lookup(s, "globex", record.imei)).status, 404);
      await device.close();
    });

    test("terminated at acme, whose policy keeps such devices: DEVICE_TERMINATED", async () => {
      const { device, record } = await activeDevice(s, "acme");
      await setCustody(s, "acme", record.imei, { status: "terminated" });
      const before = await device.status();
      const r = await migrateDevice(device, { to: "carrier:globex" });
      assert.deepEqual([r.verdict, r.reasons], ["denied", ["DEVICE_TERMINATED"]]);
      assert.deepEqual(await device.status(), before);
      assert.equal((await lookup(s, "globex", record.imei)).status, 404);
      await device.close();
    });

    test("terminated at globex, whose policy lets them port out: approved", async () => {
      const { device, record } = await activeDevice(s, "globex");
      await setCustody(s, "globex", record.imei, {
        status: "terminated",
        activatedAt: Date.now() - 61 * DAY_MS,
      });
      const r = await migrateDevice(device, { to: "carrier:acme" });
      assert.deepEqual([r.verdict, r.reasons], ["approved", []]);
      assert.equal((await device.status()).activeCarrier, "acme");
      await device.close();
    });

    test("days-after-activation:60: locked a moment before day 60, free from day 60 on", async () => {
      const { device, record } = await activeDevice(s, "globex");
      const now = Date.now();
      s.clock.now = now;
      try {
        await setCustody(s, "globex", record.imei, { activatedAt: now - 60 * DAY_MS + 1 });
        const before = await device.status();
        const locked = await migrateDevice(device, { to: "carrier:acme" });
        assert.deepEqual([locked.verdict, locked.reasons], ["denied", ["SUBSIDY_LOCKED"]]);
        assert.deepEqual(await device.status(), before);
        assert.equal((await lookup(s, "acme", record.imei)).status, 404);

        await setCustody(s, "globex", record.imei, { activatedAt: now - 60 * DAY_MS });
        const free = await migrateDevice(device, { to: "carrier:acme" });
        assert.deepEqual([free.verdict, free.reasons], ["approved", []]);
      } finally {
        s.clock.now = null;
      }
      await device.close();
    });

    test("days-after-activation with no known activation date: SUBSIDY_LOCKED", async () => {
      const { device, record } = await activeDevice(s, "globex");
      await setCustody(s, "globex", record.imei, { activatedAt: null });
      const r = await migrateDevice(device, { to: "carrier:acme" });
      assert.deepEqual([r.verdict, r.reasons], ["denied", ["SUBSIDY_LOCKED"]]);
      await device.close();
    });

    test("slots full: a clear error, nothing asked of globex, nothing changed", async () => {
      const { device, record } = await activeDevice(s, "acme");
      await fillSlots(device);
      const before = await device.status();
      await assert.rejects(
        migrateDevice(device, { to: "carrier:globex" }),
        (err) => isActivationError(err, "SLOTS_FULL") && /all 8 key slots/.test(err.message),
      );
      assert.deepEqual(await device.status(), before);
      assert.equal((await lookup(s, "globex", record.imei)).status, 404);
      await device.close();
    });

    test("the last slot taken between verdict and key: 420 to globex, which provisions nothing", async () => {
      const { device, record } = await activeDevice(s, "acme");
      await fillSlots(device, 1);
      // The migration by hand, so the last slot can be taken after globex approved.
      const n = await s.call("/carriers/globex/migration/nonce", { json: {} });
      const { nonce } = (await n.json()) as { nonce: string };
      const { evidence } = await device.verify(nonce, { carrier: "acme", migrateTo: "globex" });
      const ans = (await (
        await s.call("/carriers/globex/migration/evidence", { json: { evidence } })
      ).json()) as { verdict: string; decision: string; dmAccount: unknown };
      assert.equal(ans.decision, "approved");
      await device.acceptVerdict(ans.verdict);
      await fillSlots(device);
      const before = await device.status();
      const client = await device.dmClient();
      const account = await client.installAccount(ans.dmAccount);
      const dm = await client.session({ trigger: "new-network", serverId: account.serverId });
      assert.equal(dm.deposits.length, 1);
      assert.equal(dm.deposits[0]!.status, 420);
      assert.equal(dm.deposits[0]!.error?.code, "SLOTS_FULL");
      // globex's profile came first in the package: undone with the refused key.
      assert.equal(dm.profile?.carrier, "acme", "the tree holds acme's profile again");
      const after = await device.status();
      assert.deepEqual(after.slots, before.slots);
      assert.equal(after.activeCarrier, "acme");
      assert.equal((after.profile as { carrier: string }).carrier, "acme");
      assert.equal((await lookup(s, "globex", record.imei)).status, 404);
      const row = await s.store.part("carrier:globex").kv.get("migrations", record.imei);
      assert.equal((row!.value as { state: string }).state, "failed");
      await device.close();
    });

    test("a wrapped key replayed to another device does not open there; nothing changes", async () => {
      const one = await activeDevice(s, "acme");
      const r = await migrateDevice(one.device, { to: "carrier:globex" });
      assert.equal(r.verdict, "approved");
      const row = await s.store.part("carrier:globex").kv.get("migrations", one.record.imei);
      const wrapped = (row!.value as unknown as { wrapped: Parameters<Device["depositKey"]>[1] })
        .wrapped;
      const other = await activeDevice(s, "acme");
      const before = await other.device.status();
      await assert.rejects(other.device.depositKey("globex", wrapped), (err) =>
        isDeviceError(err, "WRAPPED_KEY_UNWRAP_FAILED"),
      );
      assert.deepEqual(await other.device.status(), before);
      await one.device.close();
      await other.device.close();
    });

    test("replayed migration evidence: NONCE_REPLAYED, and the platform is not asked", async () => {
      const { device, record } = await activeDevice(s, "acme", { contractEnd: "2999-01-01" });
      const n = await s.call("/carriers/globex/migration/nonce", { json: {} });
      const { nonce } = (await n.json()) as { nonce: string };
      const { evidence } = await device.verify(nonce, { carrier: "acme", migrateTo: "globex" });
      const first = (await (
        await s.call("/carriers/globex/migration/evidence", { json: { evidence } })
      ).json()) as { reasons: string[] };
      assert.deepEqual(first.reasons, ["SUBSIDY_LOCKED"]);
      const questions = async () =>
        (await s.store.part("platform").audit.list({ limit: 10_000 })).filter(
          (e) => e.action === "migration-question",
        ).length;
      const asked = await questions();
      const again = (await (
        await s.call("/carriers/globex/migration/evidence", { json: { evidence } })
      ).json()) as { reasons: string[]; decision: string };
      assert.deepEqual([again.decision, again.reasons], ["denied", ["NONCE_REPLAYED"]]);
      assert.equal(await questions(), asked);
      assert.equal((await lookup(s, "globex", record.imei)).status, 404);
      await device.close();
    });

    test("activation evidence is not migration evidence: EVIDENCE_MALFORMED (400)", async () => {
      const { device } = await activeDevice(s, "acme");
      const n = await s.call("/carriers/globex/migration/nonce", { json: {} });
      const { nonce } = (await n.json()) as { nonce: string };
      const { evidence } = await device.verify(nonce, { carrier: "acme" });
      const res = await s.call("/carriers/globex/migration/evidence", { json: { evidence } });
      assert.equal(res.status, 400);
      assert.equal(
        ((await res.json()) as { error: { code: string } }).error.code,
        "EVIDENCE_MALFORMED",
      );
      const toAcme = await device.verify(nonce, { carrier: "acme", migrateTo: "acme" });
      const res2 = await s.call("/carriers/globex/migration/evidence", {
        json: { evidence: toAcme.evidence },
      });
      assert.equal(res2.status, 400);
      await device.close();
    });

    test("after migrating, the device activates again with globex (its own key now)", async () => {
      const { device } = await activeDevice(s, "acme");
      assert.equal((await migrateDevice(device, { to: "carrier:globex" })).verdict, "approved");
      await device.factoryReset();
      const r = await activateDevice(device, { via: "carrier:globex" });
      assert.deepEqual([r.verdict, r.reasons], ["approved", []]);
      assert.equal((r.profile as { carrier: string }).carrier, "globex");
      // A reset forgets the verdict: without --via it still goes to globex, its newest key's
      // carrier, not back to acme, which it was made for and left.
      await device.factoryReset();
      const again = await activateDevice(device, { trigger: "factory-reset" });
      assert.deepEqual([again.verdict, again.carrier], ["approved", "globex"]);
      await device.close();
    });

    test("after migrating, activate without --via goes to globex, also once globex denied it", async () => {
      const { device } = await activeDevice(s, "acme");
      assert.equal((await migrateDevice(device, { to: "carrier:globex" })).verdict, "approved");
      const r = await activateDevice(device, {});
      assert.deepEqual([r.verdict, r.carrier, r.via], ["approved", "globex", "carrier:globex"]);
      await tamperDevice(device.dir, "su");
      const denied = await activateDevice(device, {});
      assert.deepEqual([denied.verdict, denied.carrier], ["denied", "globex"]);
      // No longer active anywhere, but its last verdict is globex's, whose key it holds.
      assert.equal((await device.status()).activeCarrier, null);
      assert.equal((await activateDevice(device, {})).carrier, "globex");
      await device.close();
    });

    test("a corrupt profile.json: status says so, and activate without --via rewrites it", async () => {
      const { device } = await activeDevice(s, "acme");
      await writeFile(join(device.dir, DEVICE_PATHS.profile), '{"carrier":');
      await assert.rejects(device.status(), (e) => isDmClientError(e, "DEVICE_FILE_CORRUPT"));
      const r = await activateDevice(device, {});
      assert.deepEqual([r.verdict, r.carrier], ["approved", "acme"]);
      assert.equal(((await device.status()).profile as { carrier: string }).carrier, "acme");
      await device.close();
    });

    test("a denied migration leaves activate without --via at acme", async () => {
      const { device } = await activeDevice(s, "acme", { contractEnd: "2999-12-31" });
      const m = await migrateDevice(device, { to: "carrier:globex" });
      assert.deepEqual([m.verdict, m.reasons], ["denied", ["SUBSIDY_LOCKED"]]);
      const r = await activateDevice(device, {});
      assert.deepEqual([r.verdict, r.carrier], ["approved", "acme"]);
      await device.close();
    });

    test("back to a carrier that already holds a key on the device: 409, activate instead", async () => {
      const { device } = await activeDevice(s, "acme");
      const { imei } = await device.status();
      assert.equal((await migrateDevice(device, { to: "carrier:globex" })).verdict, "approved");
      await migrationDelivered(s);
      // Past globex's subsidy lock (60 days after activation), so only the conflict refuses it.
      await setCustody(s, "globex", imei, { activatedAt: Date.now() - 61 * DAY_MS });
      const before = await device.status();
      await assert.rejects(
        migrateDevice(device, { to: "carrier:acme" }),
        (err) => isActivationError(err, "SERVER_REFUSED") && /CONFLICT/.test(err.message),
      );
      assert.deepEqual(await device.status(), before);
      await device.close();
    });
    test("a port-out notice must prove the old carrier's key; otherwise 400 and nothing recorded", async () => {
      const { device, record } = await activeDevice(s, "acme");
      const n = await s.call("/carriers/globex/migration/nonce", { json: {} });
      const { nonce } = (await n.json()) as { nonce: string };
      const ev = await device.verify(nonce, { carrier: "acme", migrateTo: "globex" });
      // Sent to globex (whose key it does not prove), or not migration evidence at all: refused.
      for (const [carrier, evidence] of [
        ["globex", ev.evidence],
        ["acme", (await device.verify(nonce, { carrier: "acme" })).evidence],
        ["acme", "not.a.jws"],
      ] as const) {
        const r = await s.call(`/carriers/${carrier}/migration/port-outs`, { json: { evidence } });
        assert.equal(r.status, 400, `${carrier}: ${await r.text()}`);
      }
      assert.equal((await lookup(s, "acme", record.imei)).body.portedOutTo, null);
      // The genuine notice is recorded once, however often it is repeated.
      for (let i = 0; i < 2; i++) {
        const r = await s.call("/carriers/acme/migration/port-outs", {
          json: { evidence: ev.evidence },
        });
        assert.equal(r.status, 200);
      }
      assert.equal((await lookup(s, "acme", record.imei)).body.portedOutTo, "globex");
      const entries = (await s.store.part("carrier:acme").audit.list({ limit: 10_000 })).filter(
        (e) => e.action === "ported-out" && e.subject === record.imei,
      );
      assert.equal(entries.length, 1);
      await device.close();
    });
  });
}

describe("migration while the platform cannot answer", () => {
  let s: MigrationStack;
  before(async () => {
    s = await makeMigrationStack({ platformDown: true });
  });
  after(() => s.close());

  test("503 UNAVAILABLE to the device, exit 1 for the command; nothing changed anywhere", async () => {
    const { device, record } = await activeDevice(s, "acme");
    const before = await device.status();
    await assert.rejects(
      migrateDevice(device, { to: "carrier:globex" }),
      (err) =>
        isActivationError(err, "SERVER_REFUSED") &&
        err.status === 503 &&
        /UNAVAILABLE/.test(err.message),
    );
    assert.deepEqual(await device.status(), before);
    assert.equal((await lookup(s, "globex", record.imei)).status, 404);
    assert.equal(await s.store.part("carrier:globex").kv.get("migrations", record.imei), null);
    await device.close();
  });
});
