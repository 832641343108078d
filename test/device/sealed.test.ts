import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { isDeviceError, manufactureDevice, openDevice } from "../../src/device/index.js";
import { deriveSealKey, seal, sealedStatePath, unseal } from "../../src/device/tsz/sealed-store.js";
import { cloneDevice, makeDevice, nonce, useLab } from "./helpers.js";

let golden: string;
const lab = useLab({
  setup: async (lab) => {
    const { device, dir } = await makeDevice(lab);
    golden = dir;
    await device.close();
  },
});

async function fresh(): Promise<string> {
  const { device, dir } = await cloneDevice(lab, golden);
  await device.close();
  return dir;
}

describe("sealed storage", () => {
  test("seal/unseal round-trips; another key or any flipped byte fails", () => {
    const key = deriveSealKey(new Uint8Array(randomBytes(32)));
    const plain = new TextEncoder().encode("state");
    const sealed = seal(key, plain);
    assert.deepEqual(unseal(key, sealed, "t"), plain);
    const other = deriveSealKey(new Uint8Array(randomBytes(32)));
    assert.throws(
      () => unseal(other, sealed, "t"),
      (e) => isDeviceError(e, "SEALED_STATE_CORRUPT"),
    );
    for (let i = 0; i < sealed.length; i++) {
      const edited = sealed.slice();
      edited[i]! ^= 0x01;
      assert.throws(
        () => unseal(key, edited, "t"),
        (e) => isDeviceError(e, "SEALED_STATE_CORRUPT"),
        `byte ${i}`,
      );
    }
    assert.throws(
      () => unseal(key, sealed.subarray(0, 20), "t"),
      (e) => isDeviceError(e, "SEALED_STATE_CORRUPT"),
    );
  });

  test("the sealed file edited by one byte: the TSZ refuses to start, with a clear error", async () => {
    const dir = await fresh();
    const path = sealedStatePath(dir);
    const original = await readFile(path);
    // magic, version, IV, tag, first / middle / last ciphertext byte
    for (const at of [
      0,
      6,
      7,
      19,
      23,
      35,
      36,
      Math.floor(original.length / 2),
      original.length - 1,
    ]) {
      const edited = Buffer.from(original);
      edited[at]! ^= 0x80;
      await writeFile(path, edited);
      await assert.rejects(openDevice(dir), (e) => {
        assert.ok(isDeviceError(e, "SEALED_STATE_CORRUPT"), String(e));
        assert.match((e as Error).message, /refuses to start/);
        return true;
      });
    }
    await writeFile(path, original);
    const device = await openDevice(dir);
    assert.deepEqual((await device.verify(nonce())).reasons, []);
    await device.close();
  });

  test("a truncated or emptied sealed file is refused", async () => {
    const dir = await fresh();
    const path = sealedStatePath(dir);
    const original = await readFile(path);
    for (const bytes of [original.subarray(0, original.length - 1), Buffer.alloc(0)]) {
      await writeFile(path, bytes);
      await assert.rejects(openDevice(dir), (e) => isDeviceError(e, "SEALED_STATE_CORRUPT"));
    }
  });

  test("the fuse: replaced → refusal; missing → FUSE_MISSING; restored → opens", async () => {
    const dir = await fresh();
    const fuse = join(dir, "tsz/fuse.key");
    const saved = await readFile(fuse);
    await writeFile(fuse, randomBytes(32));
    await assert.rejects(openDevice(dir), (e) => isDeviceError(e, "SEALED_STATE_CORRUPT"));
    await rm(fuse);
    await assert.rejects(openDevice(dir), (e) => isDeviceError(e, "FUSE_MISSING"));
    await writeFile(fuse, saved);
    await (await openDevice(dir)).close();
  });

  test("one device's sealed state does not open under another device's fuse", async () => {
    const { device: d1, dir: one } = await makeDevice(lab);
    const { device: d2, dir: two } = await makeDevice(lab);
    await d1.close();
    await d2.close();
    await writeFile(sealedStatePath(two), await readFile(sealedStatePath(one)));
    await assert.rejects(openDevice(two), (e) => isDeviceError(e, "SEALED_STATE_CORRUPT"));
  });

  test("fuse and sealed state are 0600; no temporary file is left behind", async () => {
    const dir = await fresh();
    const device = await openDevice(dir);
    await device.factoryReset();
    await device.close();
    assert.equal((await stat(join(dir, "tsz/fuse.key"))).mode & 0o777, 0o600);
    assert.equal((await stat(sealedStatePath(dir))).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(join(dir, "tsz"))).sort(), ["fuse.key", "state.sealed"]);
  });

  test("the slot key is not in the sealed file in clear", async () => {
    const sealed = await readFile(sealedStatePath(golden));
    assert.equal(sealed.includes(Buffer.from(lab.slotKey)), false);
    assert.equal(sealed.includes(Buffer.from(Buffer.from(lab.slotKey).toString("base64"))), false);
  });

  test("no device → DEVICE_NOT_FOUND; manufacturing over a device → DEVICE_EXISTS", async () => {
    await assert.rejects(openDevice(join(lab.root, "nothing-here")), (e) =>
      isDeviceError(e, "DEVICE_NOT_FOUND"),
    );
    await assert.rejects(
      manufactureDevice(golden, {
        model: "dmg-phone-1",
        carrier: "acme",
        oemCa: lab.ca,
        slotKey: lab.slotKey,
        kid: lab.kid,
        verdictKeys: [],
      }),
      (e) => isDeviceError(e, "DEVICE_EXISTS"),
    );
  });
});
