import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  DEVICE_PATHS,
  isDeviceError,
  manufactureDevice,
  TszClient,
} from "../../src/device/index.js";
import { sealedStateExists } from "../../src/device/tsz/sealed-store.js";
import { isValidImei } from "../../src/identity/index.js";
import { deviceDir, makeDevice, useLab } from "./helpers.js";

const lab = useLab();

describe("manufacture and the device facade", () => {
  test("the record, the status and the DM account have CONTRACT's shapes, no key material", async () => {
    const { device, record } = await makeDevice(lab, {
      slots: 16,
      serverUrl: "http://10.0.0.1:9000/",
    });
    assert.ok(isValidImei(record.imei));
    assert.equal(record.slotCount, 16);
    assert.equal(record.counterfeit, false);
    assert.deepEqual(Object.keys(record).sort(), [
      "attestationCertificatePem",
      "carrier",
      "counterfeit",
      "dmAccount",
      "esn",
      "imei",
      "kid",
      "meid",
      "model",
      "oemId",
      "slotCount",
    ]);
    const status = await device.status();
    assert.deepEqual(status, {
      imei: record.imei,
      meid: null,
      model: "dmg-phone-1",
      toggleKey: 1,
      slots: [{ index: 0, carrier: "acme", kid: lab.kid }],
      activeCarrier: null,
      networkAccess: "none",
      profile: null,
      lastVerdict: null,
    });
    assert.equal((await device.tsz.status()).slotCount, 16);
    const account = await device.dmAccount();
    assert.deepEqual(account, record.dmAccount);
    assert.equal(account.serverUri, "http://10.0.0.1:9000/carriers/acme/dm");
    assert.deepEqual(Object.keys(account.client).sort(), ["name", "nonce", "secret"]);
    assert.equal(account.client.name, `IMEI:${record.imei}`);
    assert.deepEqual(await device.config(), {
      model: "dmg-phone-1",
      brand: "Test OEM",
      carrier: "acme",
      serverUrl: "http://10.0.0.1:9000/",
    });
    const reported = JSON.parse(
      await readFile(join(device.dir, DEVICE_PATHS.reportedIdentity), "utf8"),
    );
    assert.deepEqual(reported, { imei: record.imei, meid: null });
    await device.close();
  });

  test("bad options are refused before anything is written", async () => {
    const base = {
      model: "dmg-phone-1",
      carrier: "acme",
      oemCa: lab.ca,
      slotKey: lab.slotKey,
      kid: lab.kid,
      verdictKeys: [],
    };
    const cases = [
      { slotKey: new Uint8Array(16) },
      { slots: 12 as 8 },
      { carrier: "ACME" },
      { kid: "has space" },
      { model: "no-such-model" },
      { dmAccount: { authType: "NONE" as "BASIC" } },
    ];
    for (const c of cases) {
      const dir = deviceDir(lab);
      await assert.rejects(
        manufactureDevice(dir, { ...base, ...c }),
        (e) => isDeviceError(e, "DEVICE_INVALID_OPTIONS"),
        JSON.stringify(c),
      );
      await assert.rejects(stat(dir));
    }
  });

  test("a manufacture that fails at the CA leaves no TSZ; the directory can be used again", async () => {
    const dir = deviceDir(lab);
    const spec = {
      model: "dmg-phone-1",
      imei: "359991011234566",
      meid: null,
      esn: null,
      oemId: lab.ca.oemId,
      slotCount: 8 as const,
      verdictKeys: [],
      authoritative: {
        osImageSha256: "0".repeat(64),
        otaCertsSha256: "0".repeat(64),
      },
      shippedModes: {},
    };
    await assert.rejects(
      TszClient.manufacture(dir, spec, async () => {
        throw new Error("CA offline");
      }),
      /CA offline/,
    );
    assert.equal(await sealedStateExists(dir), false);
    const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
    ]);
    const { X509CertificateGenerator } = await import("../../src/device/x509.js");
    const stranger = await X509CertificateGenerator.createSelfSigned({
      name: "CN=x",
      keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
    });
    await assert.rejects(
      TszClient.manufacture(dir, spec, async () => stranger.toString("pem")),
      (e) => isDeviceError(e, "CERTIFICATE_INVALID"),
    );
    assert.equal(await sealedStateExists(dir), false);
    const { device } = await manufactureDevice(dir, {
      model: "dmg-phone-1",
      carrier: "acme",
      oemCa: lab.ca,
      slotKey: lab.slotKey,
      kid: lab.kid,
      verdictKeys: [],
    });
    assert.deepEqual((await device.verify("bm9uY2Utbm9uY2U")).reasons, []);
    await device.close();
  });

  test("a grey-market IMEI is fused as given and reported by the identity rules", async () => {
    const { device, record } = await makeDevice(lab, { imei: "359991011234567" });
    assert.equal(record.imei, "359991011234567");
    assert.deepEqual((await device.verify("bm9uY2Utbm9uY2U")).reasons, ["IDENTITY_MALFORMED"]);
    await device.close();
  });
});
