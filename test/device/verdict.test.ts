import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CompactSign, exportJWK, generateKeyPair } from "jose";
import {
  DEVICE_PATHS,
  type Device,
  type DeviceErrorCode,
  isDeviceError,
  openDevice,
  verifyKeyProof,
} from "../../src/device/index.js";
import { sealedStatePath } from "../../src/device/tsz/sealed-store.js";
import { makeDevice, nonce, signVerdict, useLab } from "./helpers.js";

const lab = useLab();

async function sealedBytes(d: Device): Promise<string> {
  return (await readFile(sealedStatePath(d.dir))).toString("base64");
}

async function rejected(d: Device, jws: string, code: DeviceErrorCode): Promise<void> {
  const toggle = (await d.tsz.status()).toggleKey;
  const sealed = await sealedBytes(d);
  await assert.rejects(
    d.acceptVerdict(jws),
    (e) => isDeviceError(e, code) || assert.fail(String(e)),
  );
  assert.equal((await d.tsz.status()).toggleKey, toggle);
  assert.equal(await sealedBytes(d), sealed);
}

describe("verdict acceptance", () => {
  test("an approval sets the toggle key to 0; it survives a restart", async () => {
    const { device, record } = await makeDevice(lab);
    assert.equal(await device.mayProvision(), false);
    const n = nonce();
    await device.verify(n);
    const out = await device.acceptVerdict(
      await signVerdict(lab.verdictKey, { eat_nonce: n, imei: record.imei }),
    );
    assert.deepEqual(out, {
      verdict: "approved",
      reasons: [],
      carrier: "acme",
      networkAccess: "full",
      via: "carrier:acme",
      toggleKey: 0,
    });
    assert.equal(await device.mayProvision(), true);
    await device.close();
    const again = await openDevice(device.dir);
    const status = await again.status();
    assert.equal(status.toggleKey, 0);
    assert.equal(status.activeCarrier, "acme");
    // The verdict grants full access; the device has it once its DM session provisions the
    // profile (none ran here), as the carrier's permission list says.
    assert.equal(status.networkAccess, "limited");
    assert.deepEqual(status.lastVerdict, {
      verdict: "approved",
      reasons: [],
      toggleKey: 0,
      networkAccess: "full",
      carrier: "acme",
      via: "carrier:acme",
      profile: null,
    });
    await again.close();
  });

  test("a denial sets it to 1 and limited access", async () => {
    const { device, record } = await makeDevice(lab);
    const n = nonce();
    await device.tamper("su");
    const { reasons } = await device.verify(n);
    const jws = await signVerdict(lab.verdictKey, {
      eat_nonce: n,
      imei: record.imei,
      verdict: "denied",
      reasons,
      via: "enterprise:initech",
    });
    const out = await device.acceptVerdict(jws);
    assert.equal(out.toggleKey, 1);
    const status = await device.status();
    assert.deepEqual(
      [status.toggleKey, status.networkAccess, status.activeCarrier],
      [1, "limited", null],
    );
    assert.deepEqual(status.lastVerdict?.reasons, ["ROOT_SU"]);
    assert.equal(status.lastVerdict?.via, "enterprise:initech");
    await device.close();
  });

  test("bad signature, unknown signer, wrong nonce, wrong device, replay: refused, toggle unchanged", async () => {
    const { device, record } = await makeDevice(lab);
    const imei = record.imei;
    const n = nonce();
    await device.verify(n);
    const rogue = await generateKeyPair("ES256");
    const ed = await generateKeyPair("EdDSA");

    await rejected(
      device,
      await signVerdict(rogue.privateKey, { eat_nonce: n, imei }),
      "VERDICT_SIGNATURE_INVALID",
    );
    const good = await signVerdict(lab.verdictKey, { eat_nonce: n, imei });
    const [h, p, s] = good.split(".");
    const forged = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(p!, "base64url").toString()),
        verdict: "approved",
        reasons: ["X"],
      }),
    ).toString("base64url");
    await rejected(device, `${h}.${forged}.${s}`, "VERDICT_SIGNATURE_INVALID");
    await rejected(
      device,
      await signVerdict(rogue.privateKey, { eat_nonce: n, imei }, { kid: "rogue" }),
      "VERDICT_SIGNER_UNKNOWN",
    );
    await rejected(
      device,
      await signVerdict(ed.privateKey, { eat_nonce: n, imei }, { alg: "EdDSA" }),
      "VERDICT_SIGNER_UNKNOWN",
    );
    await rejected(
      device,
      await signVerdict(lab.verdictKey, { eat_nonce: n, imei, carrier: "globex" }),
      "VERDICT_SIGNER_UNKNOWN",
    );
    await rejected(
      device,
      await signVerdict(lab.verdictKey, { eat_nonce: nonce(), imei }),
      "VERDICT_NONCE_MISMATCH",
    );
    await rejected(
      device,
      await signVerdict(lab.verdictKey, { eat_nonce: n, imei: "490154203237518" }),
      "VERDICT_SUBJECT_MISMATCH",
    );
    await rejected(
      device,
      await signVerdict(lab.verdictKey, { eat_nonce: n, imei, verdict: "maybe" as "approved" }),
      "VERDICT_MALFORMED",
    );
    const unsigned = await new CompactSign(new TextEncoder().encode("not json"))
      .setProtectedHeader({ alg: "ES256" })
      .sign(lab.verdictKey);
    await rejected(device, unsigned, "VERDICT_MALFORMED");
    await rejected(device, "e30.e30.", "VERDICT_MALFORMED");

    // The pending nonce survived all of that: the genuine verdict is still accepted, once.
    assert.equal((await device.acceptVerdict(good)).toggleKey, 0);
    await rejected(device, good, "VERDICT_NONCE_MISMATCH");
    await device.close();
  });

  test("after a restart no nonce is pending: an old verdict is refused", async () => {
    const { device, record } = await makeDevice(lab);
    const n = nonce();
    await device.verify(n);
    const jws = await signVerdict(lab.verdictKey, { eat_nonce: n, imei: record.imei });
    await device.close();
    const again = await openDevice(device.dir);
    await rejected(again, jws, "VERDICT_NONCE_MISMATCH");
    await again.close();
  });

  test("keys pinned per carrier, selected by kid", async () => {
    const globex = await generateKeyPair("ES256");
    const { device, record } = await makeDevice(lab, {
      verdictKeys: [
        { carrier: "acme", jwk: lab.verdictJwk, kid: "acme-verdicts" },
        { carrier: "globex", jwk: await exportJWK(globex.publicKey) },
      ],
    });
    assert.deepEqual((await device.tsz.status()).pinnedCarriers, ["acme", "globex"]);
    let n = nonce();
    await device.verify(n, { carrier: "globex" });
    const asGlobex = await signVerdict(globex.privateKey, {
      eat_nonce: n,
      imei: record.imei,
      carrier: "globex",
    });
    assert.equal((await device.acceptVerdict(asGlobex)).carrier, "globex");
    n = nonce();
    await device.verify(n);
    await rejected(
      device,
      await signVerdict(lab.verdictKey, { eat_nonce: n, imei: record.imei }, { kid: "other" }),
      "VERDICT_SIGNER_UNKNOWN",
    );
    const byKid = await signVerdict(
      lab.verdictKey,
      { eat_nonce: n, imei: record.imei },
      { kid: "acme-verdicts" },
    );
    assert.equal((await device.acceptVerdict(byKid)).carrier, "acme");
    await device.close();
  });

  test("a private key offered for pinning is refused at manufacture", async () => {
    const k = await generateKeyPair("ES256", { extractable: true });
    await assert.rejects(
      makeDevice(lab, { verdictKeys: [{ carrier: "acme", jwk: await exportJWK(k.privateKey) }] }),
      (e) => isDeviceError(e, "DEVICE_INVALID_OPTIONS") || isDeviceError(e, "TSZ_BAD_REQUEST"),
    );
  });
});

describe("factory reset", () => {
  test("toggle back to 1, keys kept, provisioning cleared", async () => {
    const { device, record } = await makeDevice(lab);
    const n = nonce();
    await device.verify(n);
    await device.acceptVerdict(
      await signVerdict(lab.verdictKey, { eat_nonce: n, imei: record.imei }),
    );
    await writeFile(join(device.dir, DEVICE_PATHS.profile), JSON.stringify({ apn: "x" }));
    assert.deepEqual((await device.status()).profile, { apn: "x" });
    const slotsBefore = (await device.status()).slots;

    await device.factoryReset();
    const status = await device.status();
    assert.deepEqual(
      [
        status.toggleKey,
        status.activeCarrier,
        status.networkAccess,
        status.profile,
        status.lastVerdict,
      ],
      [1, null, "none", null, null],
    );
    assert.deepEqual(status.slots, slotsBefore);
    assert.equal(await device.mayProvision(), false);
    await assert.rejects(stat(join(device.dir, DEVICE_PATHS.profile)));

    // The slot key is still there: a fresh verification proves possession of the same key.
    const m = nonce();
    const { evidence, reasons } = await device.verify(m);
    assert.deepEqual(reasons, []);
    assert.equal(verifyKeyProof(lab.slotKey, evidence, m), true);
    await device.close();
    const reopened = await openDevice(device.dir);
    assert.equal((await reopened.tsz.status()).toggleKey, 1);
    await reopened.close();
  });
});
