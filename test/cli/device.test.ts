import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { closeDefaultTszPool, openDevice } from "../../src/device/index.js";
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
