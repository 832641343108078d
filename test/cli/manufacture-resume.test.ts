// A device's registration spans the carrier's inventory, the platform's custody and the
// enterprise's enrolment. `up` killed right after the carrier's import committed (a crash
// point) left the device in the inventory without its custody copy, and running the command
// again was refused as a clone. Now the same command finishes what is left, exactly once.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { StackClient } from "../../src/cli/stack/client.js";
import { openStore, sqliteUrlFor } from "../../src/store/index.js";
import { runCli } from "../support/cli.js";
import { oneLine, startUp, tempDir, type UpProcess } from "./stack-support.js";

const PENDING = "factory-pending.json";

describe("device manufacture after a crash between the carrier and the platform", () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let stack: string;
  let up: UpProcess | undefined;

  const manufactureArgs = (dir: string, carrier = "acme", plan = true) => [
    "device",
    "manufacture",
    dir,
    "--stack",
    stack,
    "--carrier",
    carrier,
    ...(plan ? ["--enterprise", "initech", "--user-group", "technology"] : []),
    "--json",
  ];

  /** How often each audited action names `imei` in `part`'s log. */
  async function auditCount(part: string, action: string, imei: string): Promise<number> {
    const store = await openStore(sqliteUrlFor(stack));
    try {
      const entries = await store.part(part).audit.list({ limit: 10_000 });
      return entries.filter((e) => e.action === action && e.subject === imei).length;
    } finally {
      await store.close();
    }
  }

  before(async () => {
    tmp = await tempDir("resume");
    stack = join(tmp.path, "stack");
  });
  after(async () => {
    await up?.stop();
    await tmp.remove();
  });

  test("the same command again finishes the registration once; the device activates", async () => {
    up = await startUp(["--data", stack], 20_000, {
      DMGUARD_CRASH_AT: "carrier.inventory.imported",
    });
    const dir = join(tmp.path, "phone");
    const first = await runCli(manufactureArgs(dir));
    assert.equal(await up.exited, null);
    assert.equal(up.signal(), "SIGKILL", "the crash point fired");
    assert.equal(first.code, 1);
    assert.match(oneLine(first.stderr), /not \(fully\) registered: .*run the same command again/);
    assert.ok(existsSync(join(dir, PENDING)), "the note of what is left");

    up = await startUp(["--data", stack]);
    const lookup = await runCli(["device", "status", dir, "--json"]);
    const status = JSON.parse(lookup.stdout.toString());
    // The carrier committed the row before it died: the device is in its inventory.
    const carrierRow = await runCli([
      "carrier",
      "lookup",
      status.imei,
      "--stack",
      stack,
      "--carrier",
      "acme",
      "--json",
    ]);
    assert.equal(carrierRow.code, 0, carrierRow.stderr);

    // Without the first run's --enterprise and --user-group: the note keeps them.
    const again = await runCli(manufactureArgs(dir, "acme", false));
    assert.equal(again.code, 0, again.stderr);
    const made = JSON.parse(again.stdout.toString());
    assert.equal(made.imei, status.imei);
    assert.equal(made.kid, status.slots[0].kid);
    assert.equal(made.registered, true);
    assert.equal(made.deposited, true, "the platform now holds the custody copy");
    assert.equal(made.enterprise, "initech");
    assert.equal(made.resumed, true);
    assert.equal(existsSync(join(dir, PENDING)), false, "nothing left to do");

    assert.equal(await auditCount("platform", "custody-deposit", status.imei), 1);
    const client = await StackClient.open(stack);
    const enrolled = await client.enterprise("initech").lookup(status.imei);
    assert.equal(enrolled?.userGroup, "technology");

    // The restarted `up` listens on another port than the one the device was made with.
    const activated = await runCli(["device", "activate", dir, "--server", up.baseUrl, "--json"]);
    assert.equal(activated.code, 0, activated.stderr);
    assert.equal(JSON.parse(activated.stdout.toString()).verdict, "approved");

    // Finished: a third run is a second manufacture in a full folder, refused.
    const third = await runCli(manufactureArgs(dir));
    assert.equal(third.code, 1);
    assert.match(oneLine(third.stderr), /already manufactured/);
  });

  test("a resume names the carrier the device was made for; a damaged note is refused", async () => {
    up ??= await startUp(["--data", stack]);
    const dir = join(tmp.path, "phone2");
    const made = await runCli(manufactureArgs(dir));
    assert.equal(made.code, 0, made.stderr);
    const { imei, kid } = JSON.parse(made.stdout.toString());
    // As a cut-short run leaves it: the note, with the steps all done or not.
    const note = {
      record: { ...JSON.parse(made.stdout.toString()), carrier: "acme", oemId: "x" },
      custodyWrapped: null,
      plan: { contractEnd: null, userGroup: null, enterprise: null, user: null },
    };
    note.record.attestationCertificatePem = "-----BEGIN CERTIFICATE-----";
    note.record.slotCount = 8;
    await writeFile(join(dir, PENDING), JSON.stringify(note));

    const other = await runCli(manufactureArgs(dir, "globex"));
    assert.equal(other.code, 2);
    assert.match(oneLine(other.stderr), /registration is unfinished: .*--carrier acme/);

    // The steps are all done already: the run finds its row and finishes without a second one.
    const resumed = await runCli(manufactureArgs(dir));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout.toString()).kid, kid);
    assert.equal(existsSync(join(dir, PENDING)), false);

    // A note naming another key than the device holds is not this device's: nothing is sent.
    await writeFile(
      join(dir, PENDING),
      JSON.stringify({ ...note, record: { ...note.record, kid: "other" } }),
    );
    const clone = await runCli(manufactureArgs(dir));
    assert.equal(clone.code, 1);
    assert.match(oneLine(clone.stderr), /does not describe the device/);
    const lookup = await (await StackClient.open(stack)).carrier("acme").lookup(imei);
    assert.equal(lookup?.kid, kid, "the carrier's row is unchanged");

    await writeFile(join(dir, PENDING), "{not json");
    const damaged = await runCli(manufactureArgs(dir));
    assert.equal(damaged.code, 1);
    assert.match(oneLine(damaged.stderr), /is not a factory registration note/);
  });
});
