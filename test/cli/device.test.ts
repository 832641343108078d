import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { closeDefaultTszPool, DEVICE_PATHS, openDevice } from "../../src/device/index.js";
import { type Lab, makeDevice, makeLab } from "../device/helpers.js";
import { runCli } from "../support/cli.js";

// The device commands of CONTRACT.md that need no running stack, driven through the real bin.
describe("dmguard device tamper | factory-reset | status | dm-account", () => {
  let lab: Lab;
  let dir: string;

  before(async () => {
    lab = await makeLab();
    const made = await makeDevice(lab);
    dir = made.dir;
    await made.device.close();
  });
  after(async () => {
    await closeDefaultTszPool();
    await lab.cleanup();
  });

  async function verifyReasons(): Promise<string[]> {
    const device = await openDevice(dir);
    try {
      return (await device.verify("bm9uY2Utb2YtdGhlLXRlc3Q=")).reasons;
    } finally {
      await device.close();
    }
  }

  test("status --json: CONTRACT's shape, no key material", async () => {
    const r = await runCli(["device", "status", dir, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const status = JSON.parse(r.stdout.toString());
    assert.deepEqual(Object.keys(status).sort(), [
      "activeCarrier",
      "imei",
      "lastVerdict",
      "meid",
      "model",
      "networkAccess",
      "profile",
      "slots",
      "toggleKey",
    ]);
    assert.equal(status.toggleKey, 1);
    assert.deepEqual(status.slots, [{ index: 0, carrier: "acme", kid: lab.kid }]);
    const key = Buffer.from(lab.slotKey);
    for (const form of [key.toString("hex"), key.toString("base64"), key.toString("base64url")]) {
      assert.ok(!r.stdout.toString().includes(form), "the slot key never appears");
    }
  });

  test("status without --json reads as text", async () => {
    const r = await runCli(["device", "status", dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString(), /^toggle key {6}1 \(provisioning blocked\)$/m);
  });

  test("tamper su: the next verification reports exactly ROOT_SU", async () => {
    assert.deepEqual(await verifyReasons(), []);
    const r = await runCli(["device", "tamper", dir, "su"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await verifyReasons(), ["ROOT_SU"]);
  });

  test("an unknown tamper kind is a usage error naming the kinds; the device is unchanged", async () => {
    const r = await runCli(["device", "tamper", dir, "bootloader"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown tamper kind "bootloader"; expected one of payload-size/);
    assert.deepEqual(await verifyReasons(), ["ROOT_SU"]);
  });

  test("factory-reset keeps the key slots and blocks provisioning", async () => {
    const r = await runCli(["device", "factory-reset", dir]);
    assert.equal(r.code, 0, r.stderr);
    const status = JSON.parse(
      (await runCli(["device", "status", dir, "--json"])).stdout.toString(),
    );
    assert.equal(status.toggleKey, 1);
    assert.equal(status.profile, null);
    assert.equal(status.slots.length, 1);
  });

  test("dm-account --json: the DMAcc shape, with the secrets it exists to reveal", async () => {
    const r = await runCli(["device", "dm-account", dir, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const acc = JSON.parse(r.stdout.toString());
    assert.match(acc.serverUri, /^https?:\/\/.+\/carriers\/acme\/dm$/);
    assert.ok(["BASIC", "DIGEST", "HMAC"].includes(acc.authType));
    for (const side of [acc.client, acc.server]) {
      assert.equal(typeof side.name, "string");
      assert.ok(side.secret.length > 0);
      assert.equal(typeof side.nonce, "string");
    }
  });

  test("a folder that holds no device: exit 1, one line, no stack", async () => {
    const r = await runCli(["device", "status", `${lab.root}/nothing-here`]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});

// Two processes on one device folder each rewrote the sealed TSZ state and the DM files from
// what they had read: a key deposited by one vanished while its carrier recorded it.
describe("one process at a time has a device open", () => {
  let lab: Lab;
  let dir: string;

  before(async () => {
    lab = await makeLab();
    const made = await makeDevice(lab);
    dir = made.dir;
    await made.device.close();
  });
  after(async () => {
    await closeDefaultTszPool();
    await lab.cleanup();
  });

  test("another process is refused with DEVICE_BUSY while this one has it open", async () => {
    const device = await openDevice(dir);
    const second = await openDevice(dir); // handles within one process are counted
    try {
      const busy = await runCli(["device", "status", dir, "--json"]);
      assert.equal(busy.code, 1);
      assert.match(
        busy.stderr,
        new RegExp(`DEVICE_BUSY: .*in use by another process \\(pid ${process.pid}\\)`),
      );
      await second.close();
      assert.equal((await runCli(["device", "status", dir])).code, 1, "still held by the first");
    } finally {
      await device.close();
      await second.close();
    }
    const free = await runCli(["device", "status", dir, "--json"]);
    assert.equal(free.code, 0, free.stderr);
    assert.equal(existsSync(join(dir, DEVICE_PATHS.lock)), false, "the lock went with the handle");
  });

  test("a lock left by a process that has ended is taken over", async () => {
    // A pid that no process has: the kernel's limit is below 2^22.
    await writeFile(join(dir, DEVICE_PATHS.lock), "4194303 12345\n");
    const r = await runCli(["device", "status", dir, "--json"]);
    assert.equal(r.code, 0, r.stderr);
  });
});
