import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Device, isDeviceError, openDevice, TszPool } from "../../src/device/index.js";
import { cloneDevice, makeDevice, nonce, signVerdict, useLab } from "./helpers.js";

let pool: TszPool;
let golden: string;
let imei: string;
const lab = useLab({
  setup: async (lab) => {
    pool = new TszPool({ size: 2 });
    const made = await makeDevice(lab, { pool });
    golden = made.dir;
    imei = made.record.imei;
    await made.device.close();
  },
  teardown: () => pool.close(),
});

describe("TSZ worker pool", () => {
  test("many devices share two workers, each verified concurrently", async () => {
    const devices: Device[] = [];
    for (let i = 0; i < 40; i++) devices.push((await cloneDevice(lab, golden, pool)).device);
    const lanes = new Set(devices.map((d) => d.tsz.lane));
    assert.deepEqual([...lanes].sort(), [0, 1]);
    await devices[3]!.tamper("su");
    const results = await Promise.all(devices.map((d) => d.verify(nonce())));
    results.forEach((r, i) => {
      assert.deepEqual(r.reasons, i === 3 ? ["ROOT_SU"] : [], `device ${i}`);
    });
    await Promise.all(devices.map((d) => d.close()));
  });

  test("a session is only valid in its own worker and for its own device", async () => {
    const a = (await cloneDevice(lab, golden, pool)).device;
    let b = (await cloneDevice(lab, golden, pool)).device;
    while (b.tsz.lane === a.tsz.lane) {
      await b.close();
      b = (await cloneDevice(lab, golden, pool)).device;
    }
    const r = await pool.call(b.tsz.lane, { op: "mayProvision", session: a.tsz.session });
    assert.equal(r.ok ? "ok" : r.error.code, "TSZ_SESSION_UNKNOWN");
    // Approving a does not approve b.
    const n = nonce();
    await a.verify(n);
    await a.acceptVerdict(await signVerdict(lab.verdictKey, { eat_nonce: n, imei }));
    assert.deepEqual([await a.mayProvision(), await b.mayProvision()], [true, false]);
    await a.close();
    await b.close();
  });

  test("two handles on one device see one state; closing one leaves the other working", async () => {
    const { device: first, dir } = await cloneDevice(lab, golden, pool);
    const second = await openDevice(dir, { pool });
    assert.equal(first.tsz.lane, second.tsz.lane);
    const n = nonce();
    await first.verify(n);
    await second.acceptVerdict(await signVerdict(lab.verdictKey, { eat_nonce: n, imei }));
    await first.close();
    assert.equal(await second.mayProvision(), true);
    await assert.rejects(first.mayProvision(), (e) => isDeviceError(e, "TSZ_SESSION_UNKNOWN"));
    await second.close();
  });

  test("a closed pool answers TSZ_UNAVAILABLE", async () => {
    const p = new TszPool({ size: 1 });
    const d = await openDevice(golden, { pool: p });
    await p.close();
    await assert.rejects(d.mayProvision(), (e) => isDeviceError(e, "TSZ_UNAVAILABLE"));
  });
});

const DIST = fileURLToPath(new URL("../../dist/device/index.js", import.meta.url));

describe("compiled build", () => {
  test("the dist worker (worker.js) runs without tsx, from any cwd", {
    skip: !existsSync(DIST) && "dist/ not built",
  }, () => {
    const script = `
      const m = await import(${JSON.stringify(pathToFileURL(DIST).href)});
      const ca = await m.createOemCa();
      const { device } = await m.manufactureDevice(${JSON.stringify(join(lab.root, "dist-device"))}, {
        model: "dmg-phone-1", carrier: "acme", oemCa: ca, slotKey: new Uint8Array(32).fill(9),
        kid: "k", verdictKeys: [],
      });
      await device.tamper("os-image");
      const { reasons } = await device.verify("bm9uY2Utbm9uY2U");
      await device.close();
      await m.closeDefaultTszPool();
      console.log(JSON.stringify(reasons));
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: tmpdir(),
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim()), ["OS_MODIFIED"]);
  });
});
