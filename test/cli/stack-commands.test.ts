import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runCli } from "../support/cli.js";
import { manufacture, oneLine, startUp, tempDir, type UpProcess } from "./stack-support.js";

// The tests run side by side (the file stays fast): each makes its own devices, or only reads
// the shared one's IMEI while the first test changes its status.
describe("device manufacture and carrier commands against a running up", {
  concurrency: true,
}, () => {
  let data: Awaited<ReturnType<typeof tempDir>>;
  let devices: Awaited<ReturnType<typeof tempDir>>;
  let up: UpProcess;
  /** Registered with acme in before(); the tests only read it or (the first) act on it. */
  let shared: Awaited<ReturnType<typeof manufacture>>;
  const stackArgs = () => ["--stack", data.path, "--carrier", "acme"];
  const lookup = (imei: string, carrier = "acme") =>
    runCli(["carrier", "lookup", imei, "--stack", data.path, "--carrier", carrier, "--json"]);

  before(async () => {
    data = await tempDir("cmds");
    devices = await tempDir("cmds-dev");
    up = await startUp(["--data", data.path]);
    shared = await manufacture(data.path, join(devices.path, "shared"), [
      "--carrier",
      "acme",
      "--user-group",
      "executive",
      "--contract-end",
      "2030-06-30",
    ]);
  });
  after(async () => {
    await up.stop();
    await data.remove();
    await devices.remove();
  });

  test("manufacture registers the device: lookup finds it; block, unblock, terminate", async () => {
    const r = await lookup(shared.imei);
    assert.equal(r.code, 0, r.stderr);
    const rec = JSON.parse(r.stdout.toString());
    assert.equal(rec.kid, shared.kid);
    assert.equal(rec.userGroup, "executive");
    assert.equal(rec.contractEnd, "2030-06-30");
    assert.equal(rec.status, "active");
    assert.ok(rec.attestationThumbprint, "the attestation key is on the record");
    // Only acme has it: globex's inventory is its own.
    assert.equal((await lookup(shared.imei, "globex")).code, 1);

    const act = (what: string) => runCli(["carrier", what, shared.imei, ...stackArgs(), "--json"]);
    let a = await act("block");
    assert.equal(a.code, 0, a.stderr);
    assert.equal(JSON.parse(a.stdout.toString()).status, "blocked");
    a = await act("unblock");
    assert.equal(JSON.parse(a.stdout.toString()).status, "active");
    a = await runCli(["carrier", "terminate", shared.imei, ...stackArgs()]);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout.toString(), /is terminated/);
    assert.equal(JSON.parse((await lookup(shared.imei)).stdout.toString()).status, "terminated");
  });

  test("a CDMA device on globex: MEID, 16 slots, the stack's DM URL", async () => {
    const dir = join(devices.path, "cdma");
    const made = await manufacture(data.path, dir, [
      "--carrier",
      "globex",
      "--model",
      "dmg-cdma-1",
      "--slots",
      "16",
    ]);
    const s = await runCli(["device", "status", dir, "--json"]);
    assert.equal(s.code, 0, s.stderr);
    const status = JSON.parse(s.stdout.toString());
    assert.equal(status.imei, made.imei);
    assert.match(status.meid, /^[0-9A-F]{14}$/);
    assert.deepEqual(status.slots, [{ index: 0, carrier: "globex", kid: made.kid }]);
    const acc = JSON.parse(
      (await runCli(["device", "dm-account", dir, "--json"])).stdout.toString(),
    );
    assert.equal(acc.serverUri, `${up.baseUrl}/carriers/globex/dm`);
  });

  test("--no-register leaves the inventory alone; a registered --imei is refused", async () => {
    const grey = await manufacture(data.path, join(devices.path, "grey"), [
      ...stackArgs().slice(2),
      "--no-register",
    ]);
    assert.equal(grey.registered, false);
    const r = await lookup(grey.imei);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /not in carrier acme's inventory/);

    const dup = await runCli([
      "device",
      "manufacture",
      join(devices.path, "dup"),
      ...stackArgs(),
      "--imei",
      shared.imei,
    ]);
    assert.equal(dup.code, 1);
    assert.match(oneLine(dup.stderr), /already in carrier acme's inventory.*--no-register/);
    // The clone, as CONTRACT.md makes one.
    const clone = await manufacture(data.path, join(devices.path, "clone"), [
      "--carrier",
      "acme",
      "--imei",
      shared.imei,
      "--no-register",
    ]);
    assert.equal(clone.imei, shared.imei);
  });

  test("an unknown IMEI: exit 1, the carrier's reason in one line", async () => {
    const r = await runCli(["carrier", "block", "359991010000012", ...stackArgs()]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /DEVICE_NOT_FOUND/);
  });

  test("a carrier the stack does not run: exit 1", async () => {
    const r = await runCli([
      "carrier",
      "block",
      "359991010000012",
      "--stack",
      data.path,
      "--carrier",
      "nobody",
    ]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /no carrier "nobody".*acme, globex/);
  });
});
