// The old carrier refusing globex's port-out notice for good (HTTP 400: acme no longer knows the
// device) ends that job: it leaves the queue, is audited and logged once, and is not sent again
// every few minutes. A notice that could not be delivered (acme down) is still retried until it
// gets that answer. Real HTTP: acme's own server answers the notice.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type MigrationStack,
  makeMigrationStack,
  migratedDuringOutage,
  migrationDelivered,
} from "./helpers.js";

describe("a port-out notice the old carrier refuses for good", () => {
  let s: MigrationStack;
  before(async () => {
    s = await makeMigrationStack({ recordWire: true });
  });
  after(() => s.close());

  test("dropped, audited and logged once; never sent again", async () => {
    // acme is down when the migration completes, so the notice waits in globex's queue.
    const { device, imei } = await migratedDuringOutage(s, ["acme"]);
    const globex = s.store.part("carrier:globex");
    const notice = `${imei}/migration-notice`;
    const attempts = async () =>
      ((await globex.kv.get("migration/outbox", notice))?.value as { attempts?: number })
        ?.attempts ?? 0;
    assert.ok((await attempts()) > 0, "the notice failed while acme was down, and is kept");

    // acme forgets the device: its notice no longer proves a device of acme (400).
    assert.equal(await s.store.part("carrier:acme").inventory.remove(imei), true);
    s.outage.acme = false;
    await migrationDelivered(s);

    const drops = async () =>
      (await globex.audit.list({ limit: 10_000 })).filter(
        (e) => e.subject === imei && e.action === "migration-finish-dropped",
      );
    const [drop, ...more] = await drops();
    assert.ok(drop, "the drop is audited");
    assert.equal(more.length, 0);
    assert.equal(drop.details.event, "migration-notice");
    assert.match(String(drop.details.why), /^carrier acme answered 400 EVIDENCE_MALFORMED$/);
    const row = (await globex.kv.get("migrations", imei))?.value as {
      state: string;
      sourceNotified: boolean;
      custodyDeposited: boolean;
    };
    assert.equal(row.state, "complete", "the migration itself stands");
    assert.equal(row.sourceNotified, false, "acme was not notified");
    assert.equal(row.custodyDeposited, true);
    const sent = () => s.wire.filter((b) => b.includes('"to":"globex"')).length;
    const before = sent();
    assert.ok(before >= 1, "acme received the notice and answered it");
    assert.ok(
      s.logs.some((l) => l.includes("migration-finish: dropped") && l.includes(imei)),
      "the drop is logged",
    );

    // Several backoff periods (at most 400 ms here) later: not sent again, nothing queued.
    await new Promise((res) => setTimeout(res, 1500));
    assert.equal(sent(), before, "no notice sent after the refusal");
    assert.equal(await globex.kv.get("migration/outbox", notice), null);
    assert.equal((await drops()).length, 1);
    await device.close();
  });
});
