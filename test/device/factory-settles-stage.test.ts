// Every factory of a Device handle settles what a crash during a migration left staged
// (src/device/normal/dm-migration-stage.ts) before it returns the handle, not only `openDevice`:
// `Device.status()` is a pure read, so a handle that skipped settling would carry the leftover
// into whatever it does next. `prepareDevice` (and `manufactureDevice` through it) meets one in a
// directory whose TSZ storage is gone (scrapped, as `PreparedDevice.abandon` leaves it) but whose
// normal world, the stage included, stays. Real carrier, real devices and files, real TSZ.
import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  activateDevice,
  DEVICE_PATHS,
  manufactureDevice,
  openDevice,
  type PrepareOptions,
  type ProvisionedProfile,
  prepareDevice,
} from "../../src/device/index.js";
import {
  STAGED_PATH as STAGED,
  stageMigration,
} from "../../src/device/normal/dm-migration-stage.js";
import { tszDir } from "../../src/device/tsz/sealed-store.js";
import type { WrappedKey } from "../../src/keystore/index.js";
import { CARRIER, makeLab, manufacture } from "../carrier/helpers.js";
import { exists } from "../support/files.js";
import { useCarrierLab } from "./helpers.js";

const lab = useCarrierLab(makeLab);

/**
 * A device of acme, activated, then closed with a migration's stage left behind as a crash
 * after `stageMigration` leaves it (its own kid, profile and tree: a stage its TSZ holds).
 */
async function leftover(): Promise<{ dir: string; profile: ProvisionedProfile }> {
  const { device } = await manufacture(lab);
  assert.equal((await activateDevice(device)).verdict, "approved");
  const { dir } = device;
  const kid = (await device.status()).slots[0]!.kid;
  const profile = JSON.parse(await readFile(join(dir, DEVICE_PATHS.profile), "utf8"));
  const tree = await readFile(join(dir, DEVICE_PATHS.dmTree), "utf8");
  await stageMigration(dir, { carrier: CARRIER, kid, profile, tree });
  await device.close();
  assert.ok(await exists(join(dir, STAGED)), "the leftover is there");
  return { dir, profile };
}

/** The same directory with its TSZ storage scrapped: no device, so it may be manufactured again. */
async function scrapped(): Promise<string> {
  const { dir } = await leftover();
  await rm(tszDir(dir), { recursive: true, force: true });
  assert.ok(await exists(join(dir, STAGED)), "the stage outlives the TSZ");
  return dir;
}

const prepareOptions = (): PrepareOptions => ({
  model: "dmg-phone-1",
  carrier: CARRIER,
  oemCa: lab.ca,
  verdictKeys: [{ carrier: CARRIER, jwk: lab.verdictJwk }],
  serverUrl: lab.base,
});

async function slotKeyFor(pk: Uint8Array): Promise<WrappedKey> {
  const res = await lab.call("/slot-keys", {
    json: { hpkePublicKey: Buffer.from(pk).toString("base64url") },
    admin: true,
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { wrapped: WrappedKey }).wrapped;
}

describe("every factory of a Device handle settles a leftover migration stage", () => {
  test("openDevice: the stage its TSZ holds is rolled forward", async () => {
    const { dir, profile } = await leftover();
    await rm(join(dir, DEVICE_PATHS.profile));
    const device = await openDevice(dir);
    try {
      assert.equal(await exists(join(dir, STAGED)), false, "settled before the handle is returned");
      assert.deepEqual((await device.status()).profile, profile, "rolled forward");
    } finally {
      await device.close();
    }
  });

  test("prepareDevice: the new TSZ holds nothing, so the old device's stage is discarded", async () => {
    const dir = await scrapped();
    const prepared = await prepareDevice(dir, prepareOptions());
    try {
      assert.equal(await exists(join(dir, STAGED)), false, "settled before the handle is returned");
      await prepared.device.depositKey(CARRIER, await slotKeyFor(prepared.hpkePublicKey));
      const { device } = await prepared.complete();
      assert.equal((await device.status()).lastVerdict, null, "a new device, nothing carried over");
      await device.close();
    } catch (err) {
      await prepared.abandon();
      throw err;
    }
  });

  test("manufactureDevice: the old device's stage is discarded by the line that makes it", async () => {
    const dir = await scrapped();
    const { device } = await manufactureDevice(dir, {
      ...prepareOptions(),
      wrappedSlotKey: slotKeyFor,
    });
    try {
      assert.equal(await exists(join(dir, STAGED)), false, "settled before the handle is returned");
      assert.equal((await device.status()).slots.length, 1, "the new key alone");
    } finally {
      await device.close();
    }
  });
});
