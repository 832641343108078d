import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { crc32 } from "../../src/device/crc32.js";
import {
  type FactoryMeasurements,
  writeFactoryImage,
} from "../../src/device/normal/factory-image.js";
import { DEVICE_PATHS } from "../../src/device/normal/layout.js";
import {
  collectModes,
  collectRootFacts,
  findSuBinaries,
  measureFile,
  readBuildProps,
} from "../../src/device/normal/root-collectors.js";

let root: string;
let measured: FactoryMeasurements;
const payload = new TextEncoder().encode("not really a payload");

before(async () => {
  root = await mkdtemp(join(tmpdir(), "dmguard-collect-"));
  measured = await writeFactoryImage(root, {
    config: { model: "dmg-phone-1", brand: "Test", carrier: "acme", serverUrl: "http://x" },
    reported: { imei: "359991011234566", meid: null },
    otaCertificatePem: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    payload,
  });
});

after(() => rm(root, { recursive: true, force: true }));

describe("root-detection collectors on a real tree", () => {
  test("the factory tree has the shipped modes on disk, whatever the umask", async () => {
    for (const [path, mode] of Object.entries(measured.shippedModes)) {
      assert.equal((await stat(join(root, path))).mode & 0o7777, mode, path);
    }
    assert.equal(measured.payloadCrc32, crc32(payload));
    assert.equal(measured.payloadSize, payload.length);
  });

  test("facts of a clean tree", async () => {
    const facts = await collectRootFacts(root, Object.keys(measured.shippedModes));
    assert.deepEqual(facts.suPaths, []);
    assert.equal(facts.buildProps?.get("ro.build.tags"), "release-keys");
    assert.equal(facts.buildProps?.get("ro.debuggable"), "0");
    assert.equal(facts.osImageSha256, measured.osImageSha256);
    assert.equal(facts.otaCertsSha256, measured.otaCertsSha256);
    assert.deepEqual(facts.modes, measured.shippedModes);
  });

  test("su in each usual path, as a file or a symlink", async () => {
    await mkdir(join(root, "su/bin"), { recursive: true });
    await writeFile(join(root, "su/bin/su"), "x");
    await mkdir(join(root, "sbin"), { recursive: true });
    await symlink("/nowhere", join(root, "sbin/su"));
    assert.deepEqual(await findSuBinaries(root), ["sbin/su", "su/bin/su"]);
    await rm(join(root, "su"), { recursive: true });
    await rm(join(root, "sbin"), { recursive: true });
    assert.deepEqual(await findSuBinaries(root), []);
  });

  test("modes read with lstat; missing paths are null", async () => {
    const sh = join(root, "system/bin/sh");
    await chmod(sh, 0o4755);
    assert.deepEqual(await collectModes(root, ["system/bin/sh", "system/bin/none"]), {
      "system/bin/sh": 0o4755,
      "system/bin/none": null,
    });
    await chmod(sh, 0o755);
  });

  test("measurements and build.prop of missing files are null", async () => {
    assert.equal(await measureFile(root, "system/nothing.img"), null);
    assert.equal(await measureFile(root, "system/bin"), null);
    const prop = join(root, DEVICE_PATHS.buildProp);
    await rm(prop);
    assert.equal(await readBuildProps(root), null);
  });
});
