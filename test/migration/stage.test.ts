// The staged migration profile after a crash (src/device/normal/dm-migration-stage.ts), settled
// when the device is next opened: rolled forward only when the TSZ holds that carrier's key and
// is active for it, discarded otherwise or when the file is not a genuine stage (root may edit
// it) — so `device status` shows one of the two allowed states. Real devices (acme's,
// activated), their real files and TSZ.
import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type DeviceStatus, openDevice } from "../../src/device/index.js";
import {
  STAGED_PATH as STAGED,
  stageMigration,
} from "../../src/device/normal/dm-migration-stage.js";
import { exists } from "../support/files.js";
import { activeDevice, type MigrationStack, makeMigrationStack } from "./helpers.js";

const PROFILE = "data/omadm/profile.json";
const TREE = "data/omadm/dmtree.json";

/** `device status` as the next command sees it: the device opened afresh (which settles). */
async function statusAfterOpen(dir: string): Promise<DeviceStatus> {
  const d = await openDevice(dir);
  try {
    return await d.status();
  } finally {
    await d.close();
  }
}

describe("a staged migration profile, settled when the device is next opened", () => {
  let s: MigrationStack;
  before(async () => {
    s = await makeMigrationStack();
  });
  after(() => s.close());

  test("held and active: rolled forward into profile.json; the file goes", async () => {
    const { device } = await activeDevice(s, "acme");
    const st = await device.status();
    const profile = JSON.parse(await readFile(join(device.dir, PROFILE), "utf8"));
    const tree = await readFile(join(device.dir, TREE), "utf8");
    // As a crash right after the deposit leaves it: staged, profile.json not yet written.
    await stageMigration(device.dir, { carrier: "acme", kid: st.slots[0]!.kid, profile, tree });
    await rm(join(device.dir, PROFILE));
    const after = await statusAfterOpen(device.dir);
    assert.deepEqual(after.profile, profile);
    assert.equal(after.activeCarrier, "acme");
    assert.equal(await exists(join(device.dir, STAGED)), false);
    await device.close();
  });

  test("a key the TSZ does not hold, or another carrier: discarded, nothing changed", async () => {
    const { device } = await activeDevice(s, "acme");
    const before = await device.status();
    const profile = JSON.parse(await readFile(join(device.dir, PROFILE), "utf8"));
    const tree = await readFile(join(device.dir, TREE), "utf8");
    await stageMigration(device.dir, { carrier: "acme", kid: "not-in-the-tsz", profile, tree });
    await writeFile(join(device.dir, PROFILE), '{"carrier":"acme","edited":true}\n');
    const mark = await readFile(join(device.dir, PROFILE), "utf8");
    await statusAfterOpen(device.dir);
    assert.equal(await exists(join(device.dir, STAGED)), false, "discarded");
    assert.equal(await readFile(join(device.dir, PROFILE), "utf8"), mark, "not rolled forward");
    // Another carrier's (not active, no slot): the same.
    await writeFile(join(device.dir, PROFILE), `${JSON.stringify(profile)}\n`);
    await stageMigration(device.dir, {
      carrier: "globex",
      kid: before.slots[0]!.kid,
      profile: { ...profile, carrier: "globex" },
      tree,
    });
    assert.deepEqual(await statusAfterOpen(device.dir), before);
    assert.equal(await exists(join(device.dir, STAGED)), false);
    await device.close();
  });

  test("not a genuine stage (garbled, or its tree's profile not the carrier's): discarded", async () => {
    const { device } = await activeDevice(s, "acme");
    const before = await device.status();
    const kid = before.slots[0]!.kid;
    const tree = await readFile(join(device.dir, TREE), "utf8");
    for (const text of [
      "{not json",
      JSON.stringify({ format: "dmguard-migration-stage/1", carrier: "acme", kid }),
      JSON.stringify({
        format: "dmguard-migration-stage/1",
        carrier: "acme",
        kid,
        profile: { carrier: "acme" },
        tree: tree.replaceAll("acme", "evil"),
      }),
    ]) {
      await writeFile(join(device.dir, STAGED), text);
      await rm(join(device.dir, PROFILE));
      const st = await statusAfterOpen(device.dir);
      assert.equal(st.profile, null, `${text.slice(0, 40)}: not rolled forward`);
      assert.equal(await exists(join(device.dir, STAGED)), false);
      await writeFile(join(device.dir, PROFILE), `${JSON.stringify(before.profile)}\n`);
    }
    assert.deepEqual(await device.status(), before);
    await device.close();
  });
});
