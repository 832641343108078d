import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  type Device,
  type DeviceErrorCode,
  isDeviceError,
  KCV_LABEL,
  keyProofInput,
  manufactureDevice,
  openDevice,
  prepareDevice,
  TszPool,
} from "../../src/device/index.js";
import { decodePayload } from "../../src/device/normal/payload-format.js";
import { sealedStatePath } from "../../src/device/tsz/sealed-store.js";
import {
  generateRecipientKeyPair,
  openWrappedKey,
  type WrappedKey,
} from "../../src/keystore/hpke-recipient.js";
import { type Keystore, openSoftwareKeystore } from "../../src/keystore/index.js";
import { deviceDir, nonce, signVerdict, useLab } from "./helpers.js";

/**
 * Keys deposited wrapped (DESIGN.md, Manufacture and Migration): a real software keystore makes
 * each carrier's key and hands out only an HPKE blob addressed to the device TSZ's public key;
 * the TSZ (a real worker) opens it inside and puts it in a free slot.
 */
let pool: TszPool;
let ks: Keystore;
const lab = useLab({
  setup: async (lab) => {
    pool = new TszPool({ size: 2 });
    ks = await openSoftwareKeystore({ dir: join(lab.root, "keystore") });
  },
  teardown: async () => {
    await ks.close();
    await pool.close();
  },
});

const owner = (carrier: string): string => `carrier:${carrier}`;

/** A device whose slot 0 key (acme's) was made by the keystore; its kid from the record. */
async function keystoreDevice(
  opts: { slots?: 8 | 16 } = {},
): Promise<{ device: Device; kid: string; imei: string }> {
  const { device, record } = await manufactureDevice(deviceDir(lab, "ks"), {
    model: "dmg-phone-1",
    carrier: "acme",
    oemCa: lab.ca,
    verdictKeys: [{ carrier: "acme", jwk: lab.verdictJwk }],
    wrappedSlotKey: async (pk) => (await ks.createDeviceKey(owner("acme"), pk)).wrapped,
    pool,
    ...opts,
  });
  return { device, kid: record.kid, imei: record.imei };
}

/** The key proof of an evidence token, checked inside the keystore (EVIDENCE.md). */
async function proofChecks(carrier: string, kid: string, evidence: string): Promise<boolean> {
  const [h, p] = evidence.split(".") as [string, string];
  const header = JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as { kp: string };
  const claims = JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as {
    eat_nonce: string;
  };
  return ks.verifyKeyProof(
    owner(carrier),
    kid,
    keyProofInput(claims.eat_nonce, p),
    Buffer.from(header.kp, "base64url"),
  );
}

async function sealedBytes(device: Device): Promise<Buffer> {
  return readFile(sealedStatePath(device.dir));
}

async function refusedWith(p: Promise<unknown>, code: DeviceErrorCode): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(isDeviceError(e, code), `expected ${code}, got ${String(e)}`);
    return true;
  });
}

describe("manufacture with a keystore-made key, in two phases", () => {
  test("prepare → deposit → complete: the KCV and the key proof check in the keystore", async () => {
    const prepared = await prepareDevice(deviceDir(lab, "two-phase"), {
      model: "dmg-phone-1",
      carrier: "acme",
      oemCa: lab.ca,
      verdictKeys: [{ carrier: "acme", jwk: lab.verdictJwk }],
      pool,
    });
    const { device } = prepared;
    assert.equal(prepared.hpkePublicKey.length, 65);
    assert.equal(prepared.hpkePublicKey[0], 0x04);
    assert.deepEqual(await device.hpkePublicKey(), prepared.hpkePublicKey);
    assert.equal("kid" in prepared.record, false);
    const before = await device.tsz.status();
    assert.equal(before.phase, "manufacturing");
    assert.deepEqual(before.slots, []);
    assert.equal(before.toggleKey, 1);
    // Unfinished: no verification, and no payload to complete without slot 0's key.
    await refusedWith(device.verify(nonce()), "TSZ_WRONG_PHASE");
    await refusedWith(prepared.complete(), "TSZ_WRONG_PHASE");

    const { kid, wrapped } = await ks.createDeviceKey(owner("acme"), prepared.hpkePublicKey);
    assert.deepEqual(await device.depositKey("acme", wrapped), {
      slot: 0,
      carrier: "acme",
      kid,
      alreadyPresent: false,
    });
    const { record } = await prepared.complete();
    assert.equal(record.kid, kid);
    assert.equal(record.carrier, "acme");
    const status = await device.tsz.status();
    assert.equal(status.phase, "ready");
    assert.deepEqual(status.slots, [{ index: 0, carrier: "acme", kid }]);

    // The payload's KCV, made in the TSZ, is the keystore's KCV of the same key.
    const payload = decodePayload(
      new Uint8Array(await readFile(join(device.dir, "data/omadm/payload.bin"))),
    );
    assert.equal(payload.header.kid, kid);
    assert.deepEqual(
      Buffer.from(payload.header.kcv),
      Buffer.from(await ks.keyCheckValue(owner("acme"), kid, KCV_LABEL)),
    );

    const n = nonce();
    const { evidence, reasons } = await device.verify(n);
    assert.deepEqual(reasons, []);
    assert.equal(await proofChecks("acme", kid, evidence), true);
    // A proof made under another key of the keystore does not check.
    const other = await ks.createDeviceKey(owner("acme"), prepared.hpkePublicKey);
    assert.equal(await proofChecks("acme", other.kid, evidence), false);

    // The manufacturing steps are closed now.
    await refusedWith(device.tsz.keyCheckValue("acme"), "TSZ_WRONG_PHASE");
    await refusedWith(device.tsz.fusePayload(), "TSZ_WRONG_PHASE");
    await device.close();
  });

  test("manufactureDevice({wrappedSlotKey}); the HPKE key survives a restart (sealed seed)", async () => {
    const { device, kid, imei } = await keystoreDevice();
    const pk = await device.hpkePublicKey();
    const n = nonce();
    const { evidence, reasons } = await device.verify(n);
    assert.deepEqual(reasons, []);
    assert.equal(await proofChecks("acme", kid, evidence), true);
    const outcome = await device.acceptVerdict(
      await signVerdict(lab.verdictKey, { eat_nonce: n, imei }),
    );
    assert.equal(outcome.toggleKey, 0);
    await device.close();
    const other = new TszPool({ size: 1 });
    try {
      const again = await openDevice(device.dir, { pool: other });
      assert.deepEqual(await again.hpkePublicKey(), pk);
      assert.equal((await again.status()).toggleKey, 0);
      await again.close();
    } finally {
      await other.close();
    }
  });

  test("a failing carrier scraps the unfinished TSZ: the directory can be manufactured again", async () => {
    const dir = deviceDir(lab, "scrap");
    const base = {
      model: "dmg-phone-1",
      carrier: "acme",
      oemCa: lab.ca,
      verdictKeys: [],
      pool,
    };
    await assert.rejects(
      manufactureDevice(dir, {
        ...base,
        wrappedSlotKey: async () => {
          throw new Error("carrier offline");
        },
      }),
      /carrier offline/,
    );
    // A key for another carrier than the record's: refused by the TSZ, scrapped too.
    await refusedWith(
      manufactureDevice(dir, {
        ...base,
        wrappedSlotKey: async (pk) => (await ks.createDeviceKey(owner("globex"), pk)).wrapped,
      }),
      "WRAPPED_KEY_INVALID",
    );
    const { device } = await manufactureDevice(dir, {
      ...base,
      wrappedSlotKey: async (pk) => (await ks.createDeviceKey(owner("acme"), pk)).wrapped,
    });
    assert.deepEqual((await device.verify(nonce())).reasons, []);
    await device.close();
  });

  test("raw test keys and bad options are refused before anything is written", async () => {
    const dir = deviceDir(lab, "opts");
    const base = { model: "dmg-phone-1", carrier: "acme", oemCa: lab.ca, verdictKeys: [], pool };
    const wrappedSlotKey = async (): Promise<WrappedKey> => {
      throw new Error("not called");
    };
    for (const bad of [
      {},
      { slotKey: lab.slotKey, kid: "k", wrappedSlotKey },
      { slotKey: lab.slotKey },
      { slotKey: lab.slotKey, kid: "_leading-symbol" },
      { slotKey: lab.slotKey, kid: "a/b" },
    ]) {
      await refusedWith(manufactureDevice(dir, { ...base, ...bad }), "DEVICE_INVALID_OPTIONS");
    }
    await assert.rejects(readdir(dir));
  });
});

describe("depositKey", () => {
  test("a blob for device A is refused by device B; relabelled, altered or misdirected blobs too", async () => {
    const a = await keystoreDevice();
    const b = await keystoreDevice();
    const forA = await ks.createDeviceKey(owner("globex"), await a.device.hpkePublicKey());
    const sealed = await sealedBytes(b.device);
    const status = await b.device.status();

    await refusedWith(b.device.depositKey("globex", forA.wrapped), "WRAPPED_KEY_UNWRAP_FAILED");
    // Owner relabelled in clear: the HPKE info binds it, so it no longer opens.
    const relabelled = { ...forA.wrapped, owner: owner("initech") };
    await refusedWith(a.device.depositKey("initech", relabelled), "WRAPPED_KEY_UNWRAP_FAILED");
    const rekid = { ...forA.wrapped, kid: "another-kid" };
    await refusedWith(a.device.depositKey("globex", rekid), "WRAPPED_KEY_UNWRAP_FAILED");
    const ct = Buffer.from(forA.wrapped.ct, "base64url");
    ct[0]! ^= 1;
    const altered = { ...forA.wrapped, ct: ct.toString("base64url") };
    await refusedWith(a.device.depositKey("globex", altered), "WRAPPED_KEY_UNWRAP_FAILED");
    // Deposited for another carrier than the blob names.
    await refusedWith(a.device.depositKey("acme", forA.wrapped), "WRAPPED_KEY_INVALID");
    // Not a blob of the suite.
    for (const junk of [
      { ...forA.wrapped, extra: 1 },
      { ...forA.wrapped, kem: 0x20 },
      { ...forA.wrapped, ct: "short" },
      "a string",
      null,
    ]) {
      await refusedWith(
        a.device.depositKey("globex", junk as unknown as WrappedKey),
        "WRAPPED_KEY_INVALID",
      );
    }
    assert.deepEqual(await sealedBytes(b.device), sealed);
    assert.deepEqual(await b.device.status(), status);
    assert.equal((await a.device.status()).slots.length, 1);

    // The right device opens it.
    const ok = await a.device.depositKey("globex", forA.wrapped);
    assert.deepEqual(ok, { slot: 1, carrier: "globex", kid: forA.kid, alreadyPresent: false });
    await a.device.close();
    await b.device.close();
  });

  test("the same blob twice → one slot; a keystore retry (same kid, new blob) → the same slot", async () => {
    const { device } = await keystoreDevice();
    const pk = await device.hpkePublicKey();
    const made = await ks.createDeviceKey(owner("globex"), pk, { kid: "globex-retry-1" });
    const first = await device.depositKey("globex", made.wrapped);
    assert.deepEqual(first, {
      slot: 1,
      carrier: "globex",
      kid: "globex-retry-1",
      alreadyPresent: false,
    });
    const sealed = await sealedBytes(device);
    const second = await device.depositKey("globex", made.wrapped);
    assert.deepEqual(second, { ...first, alreadyPresent: true });
    const retry = await ks.createDeviceKey(owner("globex"), pk, { kid: "globex-retry-1" });
    assert.notEqual(retry.wrapped.enc, made.wrapped.enc);
    assert.deepEqual(await device.depositKey("globex", retry.wrapped), second);
    // Idempotent calls write nothing.
    assert.deepEqual(await sealedBytes(device), sealed);
    assert.equal((await device.status()).slots.length, 2);

    // Another key under the same carrier and kid (another keystore made it): refused.
    const ks2 = await openSoftwareKeystore({ dir: join(lab.root, "keystore-2") });
    try {
      const clash = await ks2.createDeviceKey(owner("globex"), pk, { kid: "globex-retry-1" });
      await refusedWith(device.depositKey("globex", clash.wrapped), "KEY_ID_CONFLICT");
    } finally {
      await ks2.close();
    }
    assert.deepEqual(await sealedBytes(device), sealed);
    await device.close();
  });

  test("another carrier's key goes to a new slot; slot 0 keeps its carrier; each proof checks", async () => {
    const { device, kid } = await keystoreDevice({ slots: 16 });
    const globex = await ks.createDeviceKey(owner("globex"), await device.hpkePublicKey());
    assert.equal((await device.depositKey("globex", globex.wrapped)).slot, 1);
    assert.deepEqual((await device.status()).slots, [
      { index: 0, carrier: "acme", kid },
      { index: 1, carrier: "globex", kid: globex.kid },
    ]);
    // Migration evidence: the proof of the slot asked for, checked by its own carrier's keystore.
    const viaGlobex = await device.verify(nonce(), { carrier: "globex" });
    assert.deepEqual(viaGlobex.reasons, []);
    assert.equal(await proofChecks("globex", globex.kid, viaGlobex.evidence), true);
    assert.equal(await proofChecks("acme", kid, viaGlobex.evidence), false);
    const viaAcme = await device.verify(nonce());
    assert.equal(await proofChecks("acme", kid, viaAcme.evidence), true);
    await device.close();
  });

  test("slots full: 8 carriers' keys fill 8 slots, the 9th is refused and nothing changes", async () => {
    const { device } = await keystoreDevice({ slots: 8 });
    const pk = await device.hpkePublicKey();
    const blobs: WrappedKey[] = [];
    for (let i = 1; i < 8; i++) {
      const { wrapped } = await ks.createDeviceKey(owner(`c${i}`), pk);
      blobs.push(wrapped);
      assert.equal((await device.depositKey(`c${i}`, wrapped)).slot, i);
    }
    const full = await device.status();
    assert.equal(full.slots.length, 8);
    const sealed = await sealedBytes(device);
    const ninth = await ks.createDeviceKey(owner("c8"), pk);
    await assert.rejects(device.depositKey("c8", ninth.wrapped), (e) => {
      assert.ok(isDeviceError(e, "SLOTS_FULL"), String(e));
      assert.match((e as Error).message, /all 8 key slots are occupied/);
      return true;
    });
    assert.deepEqual(await sealedBytes(device), sealed);
    assert.deepEqual(await device.status(), full);
    // A key already in is still reported where it is (an idempotent retry on a full device).
    assert.deepEqual(await device.depositKey("c3", blobs[2]!), {
      slot: 3,
      carrier: "c3",
      kid: blobs[2]!.kid,
      alreadyPresent: true,
    });
    // Slot 0 still proves acme's key.
    assert.deepEqual((await device.verify(nonce())).reasons, []);
    await device.close();
  });

  test("malformed depositKey messages → typed errors, state unchanged", async () => {
    const { device } = await keystoreDevice();
    const { wrapped } = await ks.createDeviceKey(owner("globex"), await device.hpkePublicKey());
    const session = device.tsz.session;
    const sealed = await sealedBytes(device);
    const cases: Array<[unknown, DeviceErrorCode]> = [
      [{ op: "depositKey", session, carrier: "globex" }, "WRAPPED_KEY_INVALID"],
      [{ op: "depositKey", session, carrier: "GLOBEX", wrapped }, "TSZ_BAD_REQUEST"],
      [{ op: "depositKey", session, carrier: "globex", wrapped, slot: 0 }, "TSZ_BAD_REQUEST"],
      [{ op: "depositKey", carrier: "globex", wrapped }, "TSZ_BAD_REQUEST"],
      [{ op: "depositKey", session, carrier: "globex", wrapped: [wrapped] }, "WRAPPED_KEY_INVALID"],
      [
        { op: "depositKey", session, carrier: "globex", wrapped: { ...wrapped, v: 2 } },
        "WRAPPED_KEY_INVALID",
      ],
      [{ op: "keyCheckValue", session, carrier: "acme" }, "TSZ_WRONG_PHASE"],
      [{ op: "fusePayload", session }, "TSZ_WRONG_PHASE"],
      [{ op: "hpkePublicKey", session, seed: true }, "TSZ_BAD_REQUEST"],
    ];
    for (const [body, code] of cases) {
      const r = await pool.call(device.tsz.lane, body);
      assert.equal(r.ok, false, JSON.stringify(body));
      if (!r.ok) assert.equal(r.error.code, code, `${JSON.stringify(body)}: ${r.error.message}`);
    }
    assert.deepEqual(await sealedBytes(device), sealed);
    // The public key answer carries the public key only.
    const r = await pool.call(device.tsz.lane, { op: "hpkePublicKey", session });
    assert.ok(r.ok);
    if (r.ok) assert.deepEqual(Object.keys(r.result as object).sort(), ["jwk", "publicKey"]);
    await device.close();
  });
});

/** Every regular file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe("the raw key never exists outside the keystore and the TSZ", () => {
  test("its bytes, hex or base64 appear nowhere in the device directory, evidence or status", async () => {
    // Only to know what to search for: the key is made extractable and wrapped to the test too.
    const spy = await generateRecipientKeyPair();
    let kid = "";
    const { device, record } = await manufactureDevice(deviceDir(lab, "leak"), {
      model: "dmg-phone-1",
      carrier: "acme",
      oemCa: lab.ca,
      verdictKeys: [{ carrier: "acme", jwk: lab.verdictJwk }],
      wrappedSlotKey: async (pk) => {
        const made = await ks.createDeviceKey(owner("acme"), pk, { extractable: true });
        kid = made.kid;
        return made.wrapped;
      },
      pool,
    });
    const key = Buffer.from(
      await openWrappedKey(
        spy.privateKey,
        await ks.wrapDeviceKey(owner("acme"), kid, spy.publicKey),
      ),
    );
    assert.equal(key.length, 32);
    const n = nonce();
    const { evidence } = await device.verify(n);
    assert.equal(await proofChecks("acme", kid, evidence), true);
    await device.acceptVerdict(
      await signVerdict(lab.verdictKey, { eat_nonce: n, imei: record.imei }),
    );
    const globex = await ks.createDeviceKey(owner("globex"), await device.hpkePublicKey());
    await device.depositKey("globex", globex.wrapped);
    await device.factoryReset();
    const status = JSON.stringify(await device.status());
    await device.close();

    const needles = [
      key,
      Buffer.from(key.toString("hex")),
      Buffer.from(key.toString("hex").toUpperCase()),
      Buffer.from(key.toString("base64")),
      Buffer.from(key.toString("base64url")),
    ];
    const files = await filesUnder(device.dir);
    assert.ok(files.some((f) => f.endsWith("tsz/state.sealed")));
    assert.ok(files.some((f) => f.endsWith("data/omadm/payload.bin")));
    for (const f of files) {
      const bytes = await readFile(f);
      for (const needle of needles) assert.equal(bytes.includes(needle), false, f);
    }
    for (const text of [evidence, status, JSON.stringify(record)]) {
      for (const needle of needles) assert.equal(text.includes(needle.toString("latin1")), false);
    }
  });
});
