import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type Device, manufactureDevice, openDevice, TszPool } from "../../src/device/index.js";
import {
  deriveSealKey,
  seal,
  sealedStatePath,
  tszDir,
  unseal,
} from "../../src/device/tsz/sealed-store.js";
import type { WrappedKey } from "../../src/keystore/hpke-recipient.js";
import { type Keystore, openSoftwareKeystore } from "../../src/keystore/index.js";
import { deviceDir, nonce, useLab } from "./helpers.js";

/**
 * Crash safety of a deposit (DESIGN.md: "a key is deposited once or not at all"). A child
 * process runs the real TSZ worker (worker.ts) with `rename` of node:fs/promises wrapped so that
 * the whole process is SIGKILLed right before, or right after, the rename that commits the new
 * sealed state; the temporary file is already written and synced by then. The production code
 * has no hook: the wrapper is installed in the worker before worker.ts loads.
 */
const ENTRY = new URL("../../src/device/tsz/worker.ts", import.meta.url).href;
const TSX_API = import.meta.resolve("tsx/esm/api");

function workerBoot(mode: "before-rename" | "after-rename"): string {
  return `
    const fsp = require("node:fs/promises");
    const { syncBuiltinESMExports } = require("node:module");
    const rename = fsp.rename;
    fsp.rename = async (from, to) => {
      const commit = String(to).endsWith("/tsz/state.sealed");
      if (commit && ${JSON.stringify(mode)} === "before-rename") process.kill(process.pid, "SIGKILL");
      await rename(from, to);
      if (commit && ${JSON.stringify(mode)} === "after-rename") process.kill(process.pid, "SIGKILL");
    };
    syncBuiltinESMExports();
    import(${JSON.stringify(TSX_API)})
      .then((m) => m.tsImport(${JSON.stringify(ENTRY)}, ${JSON.stringify(import.meta.url)}))
      .catch((e) => setImmediate(() => { throw e; }));
  `;
}

// The child speaks the TSZ message API to that worker: open the device, deposit one key.
const CHILD = `
  import { Worker } from "node:worker_threads";
  const [boot, dir, carrier, wrapped] = process.argv.slice(1);
  const worker = new Worker(boot, { eval: true, execArgv: [] });
  const waiting = new Map();
  let next = 1;
  worker.on("message", (m) => waiting.get(m.id)?.(m.response));
  const call = (body) => new Promise((resolve) => {
    const id = next++;
    waiting.set(id, resolve);
    worker.postMessage({ id, body });
  });
  const opened = await call({ op: "open", dir });
  const r = await call({ op: "depositKey", session: opened.result.session, carrier, wrapped: JSON.parse(wrapped) });
  process.stdout.write(JSON.stringify(r) + "\\n");
  process.exit(0);
`;

function depositInCrashingChild(
  mode: "before-rename" | "after-rename",
  dir: string,
  carrier: string,
  wrapped: WrappedKey,
): Promise<{ signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        CHILD,
        workerBoot(mode),
        dir,
        carrier,
        JSON.stringify(wrapped),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("error", reject);
    child.on("exit", (_code, signal) => resolve({ signal, out, err }));
  });
}

let ks: Keystore;
const lab = useLab({
  setup: async (lab) => {
    ks = await openSoftwareKeystore({ dir: join(lab.root, "keystore") });
  },
  teardown: () => ks.close(),
});

/** A manufactured device, closed again (the child must be the only one writing it). */
async function closedDevice(): Promise<{ dir: string; pk: Uint8Array; kid: string }> {
  const pool = new TszPool({ size: 1 });
  try {
    const { device, record } = await manufactureDevice(deviceDir(lab, "crash"), {
      model: "dmg-phone-1",
      carrier: "acme",
      oemCa: lab.ca,
      verdictKeys: [],
      wrappedSlotKey: async (pk) => (await ks.createDeviceKey("carrier:acme", pk)).wrapped,
      pool,
    });
    const pk = await device.hpkePublicKey();
    await device.close();
    return { dir: device.dir, pk, kid: record.kid };
  } finally {
    await pool.close();
  }
}

async function reopen<T>(dir: string, f: (d: Device) => Promise<T>): Promise<T> {
  const pool = new TszPool({ size: 1 });
  try {
    const device = await openDevice(dir, { pool });
    try {
      return await f(device);
    } finally {
      await device.close();
    }
  } finally {
    await pool.close();
  }
}

describe("a crash during a deposit leaves the old state or the new one", () => {
  test("killed before the rename: the TSZ opens with the old state; a retry deposits once", async () => {
    const { dir, pk, kid } = await closedDevice();
    const old = await readFile(sealedStatePath(dir));
    const { wrapped, kid: gkid } = await ks.createDeviceKey("carrier:globex", pk);
    const run = await depositInCrashingChild("before-rename", dir, "globex", wrapped);
    assert.equal(run.signal, "SIGKILL", `the child was not killed: ${run.out}${run.err}`);
    // It died in the window: the new sealed state was written to a temporary file only.
    const left = (await readdir(tszDir(dir))).filter((f) => f.endsWith(".tmp"));
    assert.equal(left.length, 1);
    assert.deepEqual(await readFile(sealedStatePath(dir)), old);
    await reopen(dir, async (device) => {
      assert.deepEqual((await device.status()).slots, [{ index: 0, carrier: "acme", kid }]);
      assert.deepEqual((await device.verify(nonce())).reasons, []);
      assert.deepEqual(await device.depositKey("globex", wrapped), {
        slot: 1,
        carrier: "globex",
        kid: gkid,
        alreadyPresent: false,
      });
      assert.equal((await device.depositKey("globex", wrapped)).alreadyPresent, true);
      assert.equal((await device.status()).slots.length, 2);
    });
  });

  test("killed right after the rename: the TSZ opens with the new state; a retry is a no-op", async () => {
    const { dir, pk, kid } = await closedDevice();
    const old = await readFile(sealedStatePath(dir));
    const { wrapped, kid: gkid } = await ks.createDeviceKey("carrier:globex", pk);
    const run = await depositInCrashingChild("after-rename", dir, "globex", wrapped);
    assert.equal(run.signal, "SIGKILL", `the child was not killed: ${run.out}${run.err}`);
    assert.notDeepEqual(await readFile(sealedStatePath(dir)), old);
    await reopen(dir, async (device) => {
      const expected = [
        { index: 0, carrier: "acme", kid },
        { index: 1, carrier: "globex", kid: gkid },
      ];
      assert.deepEqual((await device.status()).slots, expected);
      assert.deepEqual(await device.depositKey("globex", wrapped), {
        slot: 1,
        carrier: "globex",
        kid: gkid,
        alreadyPresent: true,
      });
      assert.deepEqual((await device.status()).slots, expected);
      assert.deepEqual((await device.verify(nonce(), { carrier: "globex" })).reasons, []);
    });
  });
});

describe("sealed state version 1 (before the HPKE key)", () => {
  test("is upgraded on open: a seed is sealed back once, the same public key thereafter", async () => {
    const { dir, kid } = await closedDevice();
    const sealKey = deriveSealKey(new Uint8Array(await readFile(join(tszDir(dir), "fuse.key"))));
    const current = JSON.parse(
      Buffer.from(
        unseal(sealKey, new Uint8Array(await readFile(sealedStatePath(dir))), "t"),
      ).toString("utf8"),
    ) as Record<string, unknown>;
    const { hpkeSeed: _seed, phase: _phase, ...rest } = current;
    const v1 = { ...rest, version: 1 };
    await writeFile(
      sealedStatePath(dir),
      seal(sealKey, new Uint8Array(Buffer.from(JSON.stringify(v1), "utf8"))),
    );
    const pk = await reopen(dir, async (device) => {
      assert.deepEqual((await device.status()).slots, [{ index: 0, carrier: "acme", kid }]);
      assert.deepEqual((await device.verify(nonce())).reasons, []);
      return device.hpkePublicKey();
    });
    const upgraded = JSON.parse(
      Buffer.from(
        unseal(sealKey, new Uint8Array(await readFile(sealedStatePath(dir))), "t"),
      ).toString("utf8"),
    ) as Record<string, unknown>;
    assert.equal(upgraded.version, 2);
    assert.equal(upgraded.phase, "ready");
    assert.deepEqual(await reopen(dir, (d) => d.hpkePublicKey()), pk);
    const { wrapped } = await ks.createDeviceKey("carrier:globex", pk);
    await reopen(dir, async (d) => {
      assert.equal((await d.depositKey("globex", wrapped)).slot, 1);
    });
  });
});
