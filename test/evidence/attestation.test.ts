import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createOemCa, type Device, type OemCa } from "../../src/device/index.js";
import {
  loadTrustAnchors,
  parseEvidenceClaims,
  type TrustAnchor,
  verifyAttestation,
} from "../../src/evidence/index.js";
import { genuineEvidence } from "./genuine-evidence.js";

const YEAR = 365 * 24 * 3600 * 1000;

describe("verifyAttestation on a real device's evidence", () => {
  let root: string;
  let ca: OemCa;
  let anchors: TrustAnchor[];
  let device: Device;
  let evidence: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "dmguard-evidence-"));
    ca = await createOemCa({ name: "Evidence OEM" });
    anchors = loadTrustAnchors([ca.certificatePem]);
    ({ device, evidence } = await genuineEvidence(root, ca));
  });
  after(async () => {
    await device.close();
    await rm(root, { recursive: true, force: true });
  });

  test("genuine: ok, with the key's thumbprint and well-formed claims", async () => {
    const r = await verifyAttestation(evidence, anchors, new Date());
    assert.ok(r.ok);
    assert.match(r.attestationThumbprint, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(typeof parseEvidenceClaims(r.payload), "object");
  });

  test("another OEM's CA → untrusted", async () => {
    const other = loadTrustAnchors([(await createOemCa({ name: "Other OEM" })).certificatePem]);
    const r = await verifyAttestation(evidence, other, new Date());
    assert.deepEqual(r.ok ? null : r.problem, "untrusted");
  });

  test("judged after the certificate's end (frozen clock) → expired", async () => {
    const r = await verifyAttestation(evidence, anchors, new Date(Date.now() + 25 * YEAR));
    assert.deepEqual(r.ok ? null : r.problem, "expired");
    const early = await verifyAttestation(evidence, anchors, new Date(Date.now() - YEAR));
    assert.deepEqual(early.ok ? null : early.problem, "expired");
  });

  test("an altered payload → signature", async () => {
    const [h, p, s] = evidence.split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
    claims.reasons = [];
    claims.imei = "490154203237518";
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
    const r = await verifyAttestation(forged, anchors, new Date());
    assert.deepEqual(r.ok ? null : r.problem, "signature");
  });

  test("a chain verified before is still judged in full: time, signature, encoding", async () => {
    // The first call walks the chain and keeps it; the later ones reuse the walk.
    const first = await verifyAttestation(evidence, anchors, new Date());
    const again = await verifyAttestation(evidence, anchors, new Date());
    assert.ok(first.ok && again.ok);
    assert.equal(again.attestationThumbprint, first.attestationThumbprint);
    assert.equal(again.certificatePem, first.certificatePem);
    const pem = new X509Certificate(await device.attestationCertificatePem()).toString();
    assert.equal(first.certificatePem, pem);
    const late = await verifyAttestation(evidence, anchors, new Date(Date.now() + 25 * YEAR));
    assert.deepEqual(late.ok ? null : late.problem, "expired");
    const [h, p, s] = evidence.split(".") as [string, string, string];
    const header = JSON.parse(Buffer.from(h, "base64url").toString()) as Record<string, unknown>;
    const cases: Array<[string, string]> = [
      ["short signature", `${h}.${p}.${s.slice(0, 80)}`],
      ["a signature one character longer", `${h}.${p}.${s}A`],
      [
        "payload of 4k+1 characters",
        `${h}.${p}${"A".repeat((((1 - p.length) % 4) + 4) % 4 || 4)}.${s}`,
      ],
      [
        "another device's signature bytes",
        `${h}.${p}.${Buffer.alloc(64, 7).toString("base64url")}`,
      ],
      [
        "crit that is not a list",
        `${Buffer.from(JSON.stringify({ ...header, crit: "b64" })).toString("base64url")}.${p}.${s}`,
      ],
    ];
    for (const [what, bad] of cases) {
      const r = await verifyAttestation(bad, anchors, new Date());
      assert.deepEqual(r.ok ? null : r.problem, "signature", what);
    }
    // Another set of anchors does not see this one's walked chains.
    const other = loadTrustAnchors([(await createOemCa({ name: "Third OEM" })).certificatePem]);
    const r = await verifyAttestation(evidence, other, new Date());
    assert.deepEqual(r.ok ? null : r.problem, "untrusted");
  });

  test("not the evidence's shape → malformed", async () => {
    for (const bad of [
      "",
      "a.b",
      "a.b.c",
      `${Buffer.from('{"alg":"none"}').toString("base64url")}.e30.`,
    ]) {
      const r = await verifyAttestation(bad, anchors, new Date());
      assert.deepEqual(r.ok ? null : r.problem, "malformed", bad);
    }
  });

  test("a device certificate is refused as a trust anchor", async () => {
    const leaf = await device.attestationCertificatePem();
    assert.throws(() => loadTrustAnchors([leaf]), /not a CA/);
  });

  test("parseEvidenceClaims names the first bad claim", () => {
    assert.equal(parseEvidenceClaims([]), "claims are not a JSON object");
    assert.equal(parseEvidenceClaims({ eat_profile: "x" }), "eat_profile");
  });
});
