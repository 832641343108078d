// "Or A directly": globex asks acme itself about acme's device (a peer token acme issued), not
// the platform; acme answers from its own inventory and keystore under its own policy.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { migrateDevice } from "../../src/device/index.js";
import { activeDevice, lookup, type MigrationStack, makeMigrationStack } from "./helpers.js";

describe("migration asking the old carrier directly", () => {
  let s: MigrationStack;
  before(async () => {
    s = await makeMigrationStack({
      direct: true,
      acmePolicy: { subsidyLock: "until-contract-end", terminatedMayPortOut: false },
    });
  });
  after(() => s.close());

  const questions = async (part: string) =>
    (await s.store.part(part).audit.list({ limit: 10_000 })).filter(
      (e) => e.action === "migration-question",
    ).length;

  test("clean: acme answers, the platform is not asked; the device moves", async () => {
    const { device, record } = await activeDevice(s, "acme");
    const [atAcme, atPlatform] = [await questions("carrier:acme"), await questions("platform")];
    const r = await migrateDevice(device, { to: "carrier:globex" });
    assert.deepEqual([r.verdict, r.reasons], ["approved", []]);
    assert.equal(await questions("carrier:acme"), atAcme + 1);
    assert.equal(await questions("platform"), atPlatform);
    assert.equal((await lookup(s, "globex", record.imei)).body.state, "provisioned");
    assert.equal((await device.status()).activeCarrier, "globex");
    await device.close();
  });

  test("acme's own marks: contract end → SUBSIDY_LOCKED; blocked → DEVICE_BLOCKED", async () => {
    const locked = await activeDevice(s, "acme", { contractEnd: "2999-01-01" });
    const r1 = await migrateDevice(locked.device, { to: "carrier:globex" });
    assert.deepEqual([r1.verdict, r1.reasons], ["denied", ["SUBSIDY_LOCKED"]]);
    await locked.device.close();

    const stolen = await activeDevice(s, "acme");
    const b = await s.call(`/carriers/acme/devices/${stolen.record.imei}/block`, {
      method: "POST",
      token: s.carrierAdmin.acme,
    });
    assert.equal(b.status, 200);
    const before = await stolen.device.status();
    const r2 = await migrateDevice(stolen.device, { to: "carrier:globex" });
    assert.deepEqual([r2.verdict, r2.reasons], ["denied", ["DEVICE_BLOCKED"]]);
    assert.deepEqual(await stolen.device.status(), before);
    assert.equal((await lookup(s, "globex", stolen.record.imei)).status, 404);
    await stolen.device.close();
  });

  test("only a peer carrier's token may ask: none, acme's admin token, a made-up one → 401", async () => {
    const { device } = await activeDevice(s, "acme");
    const n = await s.call("/carriers/globex/migration/nonce", { json: {} });
    const { nonce } = (await n.json()) as { nonce: string };
    const { evidence } = await device.verify(nonce, { carrier: "acme", migrateTo: "globex" });
    for (const token of [undefined, s.carrierAdmin.acme, "x".repeat(40)]) {
      const r = await s.call("/carriers/acme/migration/questions", {
        json: { evidence },
        ...(token ? { token } : {}),
      });
      assert.equal(r.status, 401);
    }
    const ok = await s.call("/carriers/acme/migration/questions", {
      json: { evidence },
      token: s.peerToken,
    });
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), [
      "blocked",
      "genuine",
      "reasons",
      "subsidyLocked",
      "terminated",
    ]);
    assert.equal(body.genuine, true);
    // Evidence proving another carrier's key is not acme's to answer.
    const wrong = await s.call("/carriers/globex/migration/questions", {
      json: { evidence },
      token: s.peerToken,
    });
    assert.equal(wrong.status, 401);
    await device.close();
  });

  test("acme's admin issues a peer token over HTTP; globex asks with it; bad requests refused", async () => {
    const issue = (json: unknown, token?: string) =>
      s.call("/carriers/acme/migration/peer-tokens", {
        json,
        ...(token ? { token } : {}),
      });
    assert.equal((await issue({ peer: "globex" })).status, 401);
    assert.equal((await issue({ peer: "globex" }, s.peerToken)).status, 401);
    assert.equal((await issue({ peer: "acme" }, s.carrierAdmin.acme)).status, 400);
    assert.equal((await issue({ peer: "Globex!" }, s.carrierAdmin.acme)).status, 400);
    assert.equal((await issue({ peer: "globex", ttlDays: 0 }, s.carrierAdmin.acme)).status, 400);
    const r = await issue({ peer: "globex", ttlDays: 30 }, s.carrierAdmin.acme);
    assert.equal(r.status, 200);
    const { peer, token } = (await r.json()) as { peer: string; token: string };
    assert.equal(peer, "globex");

    const { device } = await activeDevice(s, "acme");
    const n = await s.call("/carriers/globex/migration/nonce", { json: {} });
    const { nonce } = (await n.json()) as { nonce: string };
    const { evidence } = await device.verify(nonce, { carrier: "acme", migrateTo: "globex" });
    const asked = await s.call("/carriers/acme/migration/questions", { json: { evidence }, token });
    assert.equal(asked.status, 200);
    assert.equal(((await asked.json()) as { genuine: boolean }).genuine, true);
    await device.close();

    // Audited without the token.
    const audit = await s.store.part("carrier:acme").audit.list({ limit: 10_000 });
    const issued = audit.filter((e) => e.action === "migration-peer-token-issued");
    assert.equal(issued.length, 1);
    assert.ok(!JSON.stringify(audit).includes(token));
  });
});
