import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { compactVerify, decodeProtectedHeader } from "jose";
import {
  type Device,
  decodeMeasurements,
  EVIDENCE_TYP,
  type EvidenceClaims,
  type ManufactureRecord,
  ueidForImei,
  verifyDeviceCertificate,
  verifyKeyProof,
} from "../../src/device/index.js";
import { osImageBytes, sha256Hex } from "../../src/device/normal/factory-image.js";
import { X509Certificate } from "../../src/device/x509.js";
import { makeDevice, nonce, signVerdict, useLab } from "./helpers.js";

let device: Device;
let record: ManufactureRecord;
const lab = useLab({
  setup: async (lab) => {
    ({ device, record } = await makeDevice(lab));
  },
  teardown: () => device.close(),
});

function pemOf(der: string): string {
  return `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/** Verifies the evidence as a server would: x5c → certificate → ES256 signature → claims. */
async function open(evidence: string): Promise<{ claims: EvidenceClaims; certPem: string }> {
  const header = decodeProtectedHeader(evidence);
  assert.equal(header.alg, "ES256");
  assert.equal(header.typ, EVIDENCE_TYP);
  const certPem = pemOf(header.x5c![0]!);
  const key = await new X509Certificate(certPem).publicKey.export();
  const { payload } = await compactVerify(evidence, key, { algorithms: ["ES256"] });
  return { claims: JSON.parse(new TextDecoder().decode(payload)) as EvidenceClaims, certPem };
}

describe("evidence", () => {
  test("a clean device's evidence: signature, certificate chain, EAT claims", async () => {
    const n = nonce();
    const { evidence, reasons } = await device.verify(n);
    assert.deepEqual(reasons, []);
    const { claims, certPem } = await open(evidence);
    assert.equal(await verifyDeviceCertificate(lab.ca.certificatePem, certPem), true);
    assert.equal(certPem.replace(/\s/g, ""), record.attestationCertificatePem.replace(/\s/g, ""));
    assert.equal(claims.eat_nonce, n);
    assert.equal(claims.ueid, ueidForImei(record.imei));
    assert.equal(claims.oemid, lab.ca.oemId);
    assert.equal(Buffer.from(claims.hwmodel, "base64url").toString(), "dmg-phone-1");
    assert.equal(claims.dbgstat, 1);
    assert.equal(claims.oemboot, true);
    assert.equal(claims.imei, record.imei);
    assert.equal(claims.meid, null);
    assert.deepEqual([claims.carrier, claims.kid, claims.slot], ["acme", lab.kid, 0]);
    assert.deepEqual(claims.reasons, []);
    assert.ok(Math.abs(claims.iat - Date.now() / 1000) < 60);
    const m = decodeMeasurements(claims.measurements);
    assert.equal(m?.osImage.sha256, sha256Hex(osImageBytes("dmg-phone-1")));
    assert.equal(m?.buildTags, "release-keys");
    assert.deepEqual(m?.su, []);
  });

  test("the key proof verifies under the slot key only, and only for its nonce", async () => {
    const n = nonce();
    const { evidence } = await device.verify(n);
    assert.equal(verifyKeyProof(lab.slotKey, evidence, n), true);
    assert.equal(verifyKeyProof(new Uint8Array(32), evidence, n), false);
    assert.equal(verifyKeyProof(lab.slotKey, evidence, nonce()), false);
    // A payload swapped in from other evidence (another nonce) no longer matches the proof.
    const other = (await device.verify(nonce())).evidence.split(".");
    const [h, , sig] = evidence.split(".");
    assert.equal(verifyKeyProof(lab.slotKey, `${h}.${other[1]}.${sig}`), false);
  });

  test("debuggable test-keys build: dbgstat 0, oemboot false, reasons listed", async () => {
    const { device: d } = await makeDevice(lab);
    await d.tamper("debuggable");
    await d.tamper("test-keys");
    const { evidence, reasons } = await d.verify(nonce());
    const { claims } = await open(evidence);
    assert.deepEqual(reasons, ["ROOT_TEST_KEYS", "ROOT_DEBUGGABLE"]);
    assert.deepEqual(claims.reasons, reasons);
    assert.equal(claims.dbgstat, 0);
    assert.equal(claims.oemboot, false);
    await d.close();
  });

  test("a counterfeit device signs validly but its certificate is not the OEM's", async () => {
    const { device: d } = await makeDevice(lab, { counterfeit: true });
    const { evidence } = await d.verify(nonce());
    const { certPem } = await open(evidence);
    assert.equal(await verifyDeviceCertificate(lab.ca.certificatePem, certPem), false);
    await d.close();
  });

  test("a CDMA device attests its MEID and pseudo-ESN", async () => {
    const { device: d, record: r } = await makeDevice(lab, { model: "dmg-cdma-1" });
    assert.ok(r.meid && r.esn?.startsWith("80"));
    const { evidence, reasons } = await d.verify(nonce());
    assert.deepEqual(reasons, []);
    const { claims } = await open(evidence);
    assert.deepEqual([claims.meid, claims.esn], [r.meid, r.esn]);
    await d.close();
  });

  test("the slot key never appears in evidence, status, records, errors or normal-world files", async () => {
    const key = Buffer.from(lab.slotKey);
    const forms = [
      key.toString("hex"),
      key.toString("base64"),
      key.toString("base64url"),
      key.toString("hex").toUpperCase(),
    ];
    const seen: string[] = [];
    const n = nonce();
    const { evidence } = await device.verify(n);
    seen.push(evidence);
    for (const part of evidence.split(".").slice(0, 2))
      seen.push(Buffer.from(part, "base64url").toString("latin1"));
    seen.push(
      JSON.stringify(await device.status()),
      JSON.stringify(await device.tsz.status()),
      JSON.stringify(record),
    );
    seen.push(JSON.stringify(await device.dmAccount()));
    const verdict = await signVerdict(lab.verdictKey, {
      eat_nonce: "other-nonce",
      imei: record.imei,
    });
    const failures: Array<() => Promise<unknown>> = [
      () => device.acceptVerdict("x.y.z"),
      () => device.acceptVerdict(verdict),
      () => device.verify("!"),
      () => device.tamper("nope"),
      () => device.tsz.verify(n, { imei: "1".repeat(40), meid: null }),
    ];
    for (const f of failures) {
      await assert.rejects(f, (e) => {
        seen.push(String(e), (e as Error).stack ?? "", JSON.stringify(e));
        return true;
      });
    }
    for (const text of seen)
      for (const form of forms) assert.equal(text.includes(form), false, form);
    // Every file of the normal world, raw bytes included.
    const walk = async (dir: string): Promise<string[]> => {
      const out: string[] = [];
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) out.push(...(await walk(p)));
        else if (e.isFile()) out.push(p);
      }
      return out;
    };
    const files = (await walk(device.dir)).filter(
      (p) => !relative(device.dir, p).startsWith("tsz"),
    );
    assert.ok(files.length > 10);
    for (const f of files) {
      const bytes = await readFile(f);
      assert.equal(bytes.includes(key), false, f);
      for (const form of forms)
        assert.equal(bytes.includes(Buffer.from(form)), false, `${f} ${form}`);
    }
  });
});
