// What follows a completed migration — globex's custody deposit at the platform and its notice
// to acme — is queued in globex's store with the completion and delivered in the background:
// with the platform and acme's server down at that moment, the device's migration still
// succeeds, the failures are logged (without key material) and retried, and both arrive once
// the servers are back, without the device doing anything again.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { getRecord } from "../../src/platform/custody/records.js";
import {
  lookup,
  type MigrationStack,
  makeMigrationStack,
  migratedDuringOutage,
  migrationDelivered,
} from "./helpers.js";

describe("background delivery after a migration", () => {
  let s: MigrationStack;
  before(async () => {
    s = await makeMigrationStack({ recordWire: true });
  });
  after(() => s.close());

  test("platform and acme down at completion: delivered once they are back", async () => {
    // Both go down once globex has judged, before the DM session completes the migration.
    const { device, imei, queued } = await migratedDuringOutage(s, ["platform", "acme"]);
    assert.equal((await device.status()).activeCarrier, "globex");

    const globex = s.store.part("carrier:globex");
    const row = async () =>
      (await globex.kv.get("migrations", imei))?.value as unknown as {
        state: string;
        kid: string;
        custodyDeposited: boolean;
        sourceNotified: boolean;
        custodyWrapped: { ct: string; enc: string };
      };
    // Tried and failed: queued with a backoff, logged, nothing delivered.
    assert.deepEqual(queued.map((e) => e.key).sort(), [
      `${imei}/migration-custody`,
      `${imei}/migration-notice`,
    ]);
    const failed = queued.find((e) => (e.value as { attempts: number }).attempts > 0);
    assert.ok(failed, "a delivery was tried and failed");
    assert.match(String((failed.value as { lastError?: string }).lastError), /unreachable|cannot/);
    const before = await row();
    assert.equal(before.state, "complete");
    assert.equal(before.custodyDeposited, false);
    assert.equal(before.sourceNotified, false);
    assert.equal(await getRecord(s.platform, "globex", imei), null);
    assert.equal((await lookup(s, "acme", imei)).body.portedOutTo, null);
    const warned = s.logs.filter((l) => /migration-finish: migration-/.test(l));
    assert.ok(warned.length > 0, "the failure is logged");
    for (const l of s.logs) {
      assert.ok(!l.includes(before.custodyWrapped.ct), "no wrapped key in the log");
    }

    // Back: delivered without the device.
    s.outage.platform = false;
    s.outage.acme = false;
    await migrationDelivered(s);
    const done = await row();
    assert.equal(done.custodyDeposited, true);
    assert.equal(done.sourceNotified, true);
    assert.equal((await getRecord(s.platform, "globex", imei))?.kid, done.kid);
    assert.equal((await lookup(s, "acme", imei)).body.portedOutTo, "globex");
    const audit = await globex.audit.list({ limit: 10_000 });
    for (const action of ["migration-custody-deposited", "migration-source-notified"]) {
      const n = audit.filter((e) => e.subject === imei && e.action === action).length;
      assert.equal(n, 1, `${action} audited once`);
    }
    await device.close();
  });
});
