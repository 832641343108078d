// The new carrier refusing a device it already holds its own key on (409 CONFLICT): decided
// before the platform is asked and without using the device's nonce; a stale nonce still gets
// its denied verdict.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { migrateDevice } from "../../src/device/index.js";
import {
  activeDevice,
  type MigrationStack,
  makeMigrationStack,
  migrationDelivered,
} from "./helpers.js";

describe("migration back to a carrier that already holds a key on the device", () => {
  let s: MigrationStack;
  before(async () => {
    s = await makeMigrationStack({
      // The platform would answer SUBSIDY_LOCKED for globex's freshly migrated device.
      policies: { globex: { subsidyLock: "days-after-activation:60" } },
    });
  });
  after(() => s.close());

  const platformQuestions = async () =>
    (await s.store.part("platform").audit.list({ limit: 10_000 })).filter(
      (e) => e.action === "migration-question",
    ).length;

  test("409 CONFLICT: the platform is not asked, the nonce stays unused", async () => {
    const { device } = await activeDevice(s, "acme");
    assert.equal((await migrateDevice(device, { to: "carrier:globex" })).verdict, "approved");
    await migrationDelivered(s);

    const n = await s.call("/carriers/acme/migration/nonce", { json: {} });
    const { nonce } = (await n.json()) as { nonce: string };
    const { evidence } = await device.verify(nonce, { carrier: "globex", migrateTo: "acme" });
    const asked = await platformQuestions();
    const send = () => s.call("/carriers/acme/migration/evidence", { json: { evidence } });

    for (let i = 0; i < 2; i++) {
      const r = await send();
      assert.equal(r.status, 409, await r.clone().text());
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, "CONFLICT");
    }
    assert.equal(await platformQuestions(), asked);
    const acme = s.store.part("carrier:acme");
    assert.equal((await acme.verdicts.byNonce(nonce))?.id, undefined);
    // Unused: consuming it now succeeds once; then the same evidence is a replay, judged and
    // denied as before (no CONFLICT for evidence that could not be approved anyway).
    assert.equal((await acme.nonces.consume(nonce)).status, "ok");
    const replay = await send();
    assert.equal(replay.status, 200);
    const body = (await replay.json()) as { decision: string; reasons: string[] };
    assert.deepEqual([body.decision, body.reasons], ["denied", ["NONCE_REPLAYED"]]);
    assert.equal(await platformQuestions(), asked);
    await device.close();
  });
});
