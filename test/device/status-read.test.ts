// `Device.status()` is a pure read; what a crash during a migration's DM session left staged
// (src/device/normal/dm-migration-stage.ts) is settled once, by `openDevice`. Real devices of the
// real carrier (test/carrier/helpers.ts), activated, with their real files and TSZ; the leftover
// is written with the DM client's own `stageMigration`, as a crash after it leaves it.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import {
  activateDevice,
  DEVICE_PATHS,
  type Device,
  openDevice,
  type ProvisionedProfile,
} from "../../src/device/index.js";
import {
  STAGED_PATH as STAGED,
  stageMigration,
} from "../../src/device/normal/dm-migration-stage.js";
import { makeLab, manufacture } from "../carrier/helpers.js";
import { exists } from "../support/files.js";
import { useCarrierLab } from "./helpers.js";

/** Every file under the device directory (TSZ storage included) → a hash of its bytes. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out[relative(dir, path)] = createHash("sha256")
      .update(await readFile(path))
      .digest("hex");
  }
  return out;
}

const lab = useCarrierLab(makeLab);

/** An activated device of acme, its handle still open, and what its DM session saved. */
async function activated(): Promise<{
  device: Device;
  kid: string;
  profile: ProvisionedProfile;
  tree: string;
}> {
  const { device } = await manufacture(lab);
  const r = await activateDevice(device);
  assert.equal(r.verdict, "approved");
  const kid = (await device.status()).slots[0]!.kid;
  const profile = JSON.parse(await readFile(join(device.dir, DEVICE_PATHS.profile), "utf8"));
  const tree = await readFile(join(device.dir, DEVICE_PATHS.dmTree), "utf8");
  return { device, kid, profile, tree };
}

describe("device status is a read; openDevice settles a staged migration", () => {
  test("a stage the TSZ holds: status changes no file; the next open rolls it forward", async () => {
    const { device, kid, profile, tree } = await activated();
    const { dir } = device;
    // As a crash right after the deposit leaves it: staged, profile.json not yet written.
    await stageMigration(dir, { carrier: "acme", kid, profile, tree });
    await rm(join(dir, DEVICE_PATHS.profile));
    const before = await snapshot(dir);
    assert.ok(before[STAGED], "the leftover is there");
    const st = await device.status();
    assert.equal(st.profile, null, "status shows the files as they are");
    await device.status();
    await device.dmClient();
    await device.dmAccount();
    assert.deepEqual(await snapshot(dir), before, "status and the DM client's open wrote nothing");
    await device.close();

    const again = await openDevice(dir);
    try {
      assert.equal(await exists(join(dir, STAGED)), false, "settled by the open");
      const saved = JSON.parse(await readFile(join(dir, DEVICE_PATHS.profile), "utf8"));
      assert.deepEqual(saved, profile, "rolled forward");
      const settled = await snapshot(dir);
      const s = await again.status();
      assert.deepEqual(s.profile, profile);
      assert.equal(s.activeCarrier, "acme");
      assert.deepEqual(await snapshot(dir), settled);
    } finally {
      await again.close();
    }
  });

  test("a stage the TSZ does not hold: status leaves it; the next open discards it", async () => {
    const { device, profile, tree } = await activated();
    const { dir } = device;
    await stageMigration(dir, { carrier: "acme", kid: "not-in-the-tsz", profile, tree });
    const before = await snapshot(dir);
    const st = await device.status();
    assert.deepEqual(st.profile, profile);
    assert.deepEqual(await snapshot(dir), before, "status wrote nothing");
    await device.close();

    const again = await openDevice(dir);
    try {
      const { [STAGED]: staged, ...rest } = before;
      assert.ok(staged);
      assert.deepEqual(await snapshot(dir), rest, "only the staged file went");
      assert.deepEqual(await again.status(), st);
    } finally {
      await again.close();
    }
  });

  test("nothing staged: opening, status and dm-account write nothing", async () => {
    const { device } = await activated();
    const { dir } = device;
    await device.close();
    const before = await snapshot(dir);
    const again = await openDevice(dir);
    try {
      await again.status();
      await again.dmAccount();
    } finally {
      await again.close();
    }
    assert.deepEqual(await snapshot(dir), before);
  });
});
