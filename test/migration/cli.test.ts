// `dmguard device migrate` through the real bin against `dmguard up` (CONTRACT.md): approved
// exits 0 with activate's JSON shape, a subsidy lock exits 3 with nothing changed, bad usage 2.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { manufacture, oneLine, startUp, tempDir, type UpProcess } from "../cli/stack-support.js";
import { runCli } from "../support/cli.js";

// biome-ignore lint/suspicious/noExplicitAny: parsed CLI output, checked field by field
type Json = any;

describe("dmguard device migrate", () => {
  let up: UpProcess;
  let tmp: { path: string; remove(): Promise<void> };
  let stack: string;

  before(async () => {
    tmp = await tempDir("migrate");
    stack = join(tmp.path, "stack");
    up = await startUp(["--data", stack]);
  });
  after(async () => {
    await up?.stop();
    await tmp?.remove();
  });

  async function json(
    args: string[],
  ): Promise<{ code: number | null; body: Json; stderr: string }> {
    const r = await runCli(args);
    return {
      code: r.code,
      body: r.stdout.length ? JSON.parse(r.stdout.toString()) : null,
      stderr: r.stderr,
    };
  }

  test("acme → globex: approved, a second slot, globex active with its profile", async () => {
    const dir = join(tmp.path, "phone1");
    const made = await manufacture(stack, dir, ["--carrier", "acme"]);
    assert.equal((await json(["device", "activate", dir, "--json"])).code, 0);
    const m = await json(["device", "migrate", dir, "--to", "carrier:globex", "--json"]);
    assert.equal(m.code, 0, m.stderr);
    for (const k of [
      "verdict",
      "reasons",
      "toggleKey",
      "networkAccess",
      "carrier",
      "via",
      "profile",
    ]) {
      assert.ok(k in m.body, `${k} in migrate --json`);
    }
    assert.equal(m.body.verdict, "approved");
    assert.deepEqual(m.body.reasons, []);
    assert.equal(m.body.carrier, "globex");
    assert.equal(m.body.via, "carrier:globex");
    assert.equal(m.body.networkAccess, "full");
    assert.equal(m.body.profile.carrier, "globex");

    const st = await json(["device", "status", dir, "--json"]);
    assert.equal(st.code, 0);
    assert.equal(st.body.activeCarrier, "globex");
    assert.deepEqual(
      st.body.slots.map((x: { index: number; carrier: string }) => [x.index, x.carrier]),
      [
        [0, "acme"],
        [1, "globex"],
      ],
    );
    assert.equal(st.body.slots[0].kid, made.kid);
    assert.equal(st.body.slots[1].kid, m.body.slot.kid);
    assert.equal(st.body.profile.carrier, "globex");

    const b = await json([
      "carrier",
      "lookup",
      "--stack",
      stack,
      "--carrier",
      "globex",
      made.imei,
      "--json",
    ]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.body.kid, m.body.slot.kid);
    assert.equal(b.body.networkAccess, "full");
    // globex tells acme in the background, right after the migration: wait for it.
    const lookupAcme = () =>
      json(["carrier", "lookup", "--stack", stack, "--carrier", "acme", made.imei, "--json"]);
    let a = await lookupAcme();
    for (let i = 0; i < 50 && a.body.portedOutTo !== "globex"; i++) {
      await new Promise((r) => setTimeout(r, 200));
      a = await lookupAcme();
    }
    assert.equal(a.body.portedOutTo, "globex", "acme was told");
    assert.equal(a.body.networkAccess, "full", "acme keeps serving it until terminated");

    // Running it again changes nothing: the same slot, the key found already there.
    const again = await json(["device", "migrate", dir, "--to", "carrier:globex", "--json"]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.body.slot.kid, m.body.slot.kid);
    assert.equal(again.body.slot.alreadyPresent, true);
    const st2 = await json(["device", "status", dir, "--json"]);
    assert.equal(st2.body.slots.length, 2);

    // The subscriber ends service with acme.
    const t = await runCli([
      "carrier",
      "terminate",
      "--stack",
      stack,
      "--carrier",
      "acme",
      made.imei,
    ]);
    assert.equal(t.code, 0, t.stderr);
    const a2 = await json([
      "carrier",
      "lookup",
      "--stack",
      stack,
      "--carrier",
      "acme",
      made.imei,
      "--json",
    ]);
    assert.equal(a2.body.networkAccess, null, "off acme's permission list");
  });

  test("under contract: exit 3, SUBSIDY_LOCKED, nothing changed on the device or at globex", async () => {
    const dir = join(tmp.path, "phone2");
    const made = await manufacture(stack, dir, [
      "--carrier",
      "acme",
      "--contract-end",
      "2999-01-01",
    ]);
    assert.equal((await json(["device", "activate", dir, "--json"])).code, 0);
    const before = await json(["device", "status", dir, "--json"]);
    const m = await json(["device", "migrate", dir, "--to", "carrier:globex", "--json"]);
    assert.equal(m.code, 3);
    assert.equal(m.body.verdict, "denied");
    assert.deepEqual(m.body.reasons, ["SUBSIDY_LOCKED"]);
    // What the device has after the command, as status shows it: acme's full access, not the
    // "limited" globex would have given.
    assert.equal(before.body.networkAccess, "full");
    assert.equal(m.body.networkAccess, before.body.networkAccess);
    assert.equal(m.body.toggleKey, before.body.toggleKey);
    assert.deepEqual((await json(["device", "status", dir, "--json"])).body, before.body);
    const b = await runCli([
      "carrier",
      "lookup",
      "--stack",
      stack,
      "--carrier",
      "globex",
      made.imei,
    ]);
    assert.equal(b.code, 1);
  });

  test("usage: --to must be carrier:ID (exit 2); a carrier the device does not trust (exit 1)", async () => {
    const dir = join(tmp.path, "phone1");
    const e = await runCli(["device", "migrate", dir, "--to", "enterprise:initech"]);
    assert.equal(e.code, 2);
    oneLine(e.stderr);
    const u = await runCli(["device", "migrate", dir, "--to", "carrier:nobody"]);
    assert.equal(u.code, 1);
    assert.match(oneLine(u.stderr), /MIGRATION_TARGET_INVALID/);
  });
});
