/**
 * Attestation on a worker thread (src/evidence/attestation-thread.ts): the same answers as
 * verifyAttestation on the calling thread, for genuine, counterfeit, expired, forged and
 * malformed evidence; a thread that ends with requests pending leaves none unanswered, and the
 * next request starts a new one; one that keeps dying before it answers is given up, with a
 * warning.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createOemCa, type Device } from "../../src/device/index.js";
import { AttestationThread } from "../../src/evidence/attestation-thread.js";
import { loadTrustAnchors, type TrustAnchor, verifyAttestation } from "../../src/evidence/index.js";
import { genuineEvidence } from "./genuine-evidence.js";

const YEAR = 365 * 24 * 3600 * 1000;

describe("AttestationThread", () => {
  let root: string;
  let anchors: TrustAnchor[];
  let otherAnchors: TrustAnchor[];
  let device: Device;
  let evidence: string;
  const thread = new AttestationThread();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "dmguard-att-thread-"));
    const ca = await createOemCa({ name: "Thread OEM" });
    anchors = loadTrustAnchors([ca.certificatePem]);
    otherAnchors = loadTrustAnchors([(await createOemCa({ name: "Other OEM" })).certificatePem]);
    ({ device, evidence } = await genuineEvidence(root, ca));
  });
  after(async () => {
    await thread.terminate();
    await device.close();
    await rm(root, { recursive: true, force: true });
  });

  function forged(): string {
    const [h, p, s] = evidence.split(".");
    const claims = JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
    claims.imei = "490154203237518";
    return `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
  }

  test("answers as verifyAttestation does on this thread", async () => {
    const now = Date.now();
    const cases: Array<[string, string, TrustAnchor[], number]> = [
      ["genuine", evidence, anchors, now],
      ["another OEM's CA", evidence, otherAnchors, now],
      ["after the certificate's end", evidence, anchors, now + 25 * YEAR],
      ["an altered payload", forged(), anchors, now],
      ["not a JWS", "a.b.c", anchors, now],
    ];
    // All at once: they cross to the thread together, with both anchor sets.
    const off = await Promise.all(cases.map(([, e, a, at]) => thread.verify(e, a, at)));
    for (const [i, [what, e, a, at]] of cases.entries()) {
      assert.deepEqual(off[i], await verifyAttestation(e, a, new Date(at)), what);
    }
    assert.equal(thread.fallbacks, 0, "the thread answered them all itself");
    assert.equal(off[0]!.ok, true);
    assert.deepEqual(
      off.slice(1).map((r) => (r.ok ? "ok" : r.problem)),
      ["untrusted", "expired", "signature", "malformed"],
    );
  });

  test("a thread that ends with requests pending: each is answered, then a new thread", async () => {
    // Far more than it verifies in the moment before it ends.
    const pending = Array.from({ length: 200 }, () => thread.verify(evidence, anchors, Date.now()));
    // Let them cross to the thread, then end it under them.
    await new Promise((resolve) => setImmediate(resolve));
    await thread.terminate();
    const answers = await Promise.all(pending);
    assert.ok(answers.every((r) => r.ok));
    const fallbacks = thread.fallbacks;
    assert.ok(fallbacks > 0, "some were still pending when the thread ended");
    const after = await thread.verify(forged(), anchors, Date.now());
    assert.deepEqual(after.ok ? null : after.problem, "signature");
    assert.equal(thread.fallbacks, fallbacks, "answered by the new thread");
  });

  test("a thread that keeps dying before it answers: three tries, then a warning", {
    timeout: 30_000,
  }, async () => {
    const broken = new AttestationThread("no-such-worker");
    const warned = new Promise<Error>((resolve) => process.once("warning", resolve));
    for (let i = 0; i < 5; i++) {
      assert.ok((await broken.verify(evidence, anchors, Date.now())).ok);
    }
    assert.equal(broken.fallbacks, 5);
    assert.equal(broken.threadsStarted, 3, "none started after the third died");
    const warning = await warned;
    assert.equal(warning.name, "DmguardAttestationWarning");
    assert.match(warning.message, /ended 3 times before answering/);
  });
});
