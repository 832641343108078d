import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  createOemCa,
  exportOemCa,
  importOemCa,
  isDeviceError,
  issueDeviceCertificate,
  loadOemCa,
  type OemCa,
  saveOemCa,
  verifyDeviceCertificate,
} from "../../src/device/index.js";
import { attestationCsr, generateAttestationKey } from "../../src/device/tsz/attestation-key.js";
import { X509Certificate } from "../../src/device/x509.js";

let ca: OemCa;
let dir: string;

before(async () => {
  ca = await createOemCa({ name: "Acme Devices" });
  dir = await mkdtemp(join(tmpdir(), "dmguard-ca-"));
});

after(() => rm(dir, { recursive: true, force: true }));

describe("OEM CA", () => {
  test("issues a device certificate for a CSR's key, verifiable against the CA", async () => {
    const keys = await generateAttestationKey();
    const pem = await issueDeviceCertificate(ca, await attestationCsr(keys, "359991011234566"), {
      imei: "359991011234566",
      model: "dmg-phone-1",
    });
    const cert = new X509Certificate(pem);
    assert.match(cert.subject, /CN=dmg-phone-1 359991011234566/);
    assert.equal(cert.issuer, ca.certificate.subject);
    assert.equal(await verifyDeviceCertificate(ca.certificatePem, pem), true);
    const other = await createOemCa({ name: "Other" });
    assert.equal(await verifyDeviceCertificate(other.certificatePem, pem), false);
    assert.equal(
      await verifyDeviceCertificate(
        ca.certificatePem,
        pem,
        new Date(Date.now() + 30 * 365 * 864e5),
      ),
      false,
    );
    assert.equal(await verifyDeviceCertificate(ca.certificatePem, "junk"), false);
  });

  test("refuses what is not a valid CSR", async () => {
    await assert.rejects(issueDeviceCertificate(ca, "junk", { imei: "1", model: "m" }), (e) =>
      isDeviceError(e, "CA_INVALID"),
    );
    const keys = await generateAttestationKey();
    const csr = await attestationCsr(keys, "359991011234566");
    const der = Buffer.from(csr.replace(/-----[^-]+-----|\s/g, ""), "base64");
    der[der.length - 5]! ^= 1; // inside the signature
    const broken = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(issueDeviceCertificate(ca, broken, { imei: "1", model: "m" }), (e) =>
      isDeviceError(e, "CA_INVALID"),
    );
  });

  test("the OTA certificate is issued by the CA", async () => {
    const ota = new X509Certificate(ca.otaCertificatePem);
    assert.equal(ota.issuer, ca.certificate.subject);
    assert.equal(await ota.verify({ publicKey: ca.certificate.publicKey }), true);
  });

  test("export/import and save/load keep the CA usable; the file is 0600", async () => {
    const back = await importOemCa(await exportOemCa(ca));
    assert.equal(back.oemId, ca.oemId);
    const path = await saveOemCa(dir, ca);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const loaded = await loadOemCa(dir);
    const keys = await generateAttestationKey();
    const pem = await issueDeviceCertificate(loaded, await attestationCsr(keys, "1"), {
      imei: "1",
      model: "m",
    });
    assert.equal(await verifyDeviceCertificate(ca.certificatePem, pem), true);
    await assert.rejects(loadOemCa(join(dir, "none")), (e) => isDeviceError(e, "CA_INVALID"));
    await assert.rejects(createOemCa({ name: "bad,name" }), (e) => isDeviceError(e, "CA_INVALID"));
  });
});
