import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  activate,
  BACKENDS,
  fetchNonce,
  type Lab,
  makeLab,
  manufacture,
  submit,
} from "./helpers.js";

const TAMPERS: Array<[string, string[]]> = [
  ["payload-size", ["PAYLOAD_SIZE", "PAYLOAD_CRC"]],
  ["payload-crc", ["PAYLOAD_CRC"]],
  ["payload-format", ["PAYLOAD_FORMAT", "PAYLOAD_CRC"]],
  ["payload-key", ["PAYLOAD_KEY", "PAYLOAD_CRC"]],
  ["su", ["ROOT_SU"]],
  ["ota-certs-missing", ["ROOT_OTA_CERTS"]],
  ["ota-certs-replaced", ["ROOT_OTA_CERTS"]],
  ["test-keys", ["ROOT_TEST_KEYS"]],
  ["debuggable", ["ROOT_DEBUGGABLE"]],
  ["permissions", ["ROOT_PERMISSIONS"]],
  ["os-image", ["OS_MODIFIED"]],
  ["imei-rewrite", ["IDENTITY_MISMATCH"]],
];

for (const backend of BACKENDS) {
  describe(`activation against a real carrier server (${backend})`, () => {
    let lab: Lab;
    before(async () => {
      lab = await makeLab({ backend });
    });
    after(() => lab.close());

    test("a clean device is approved; its TSZ accepts the verdict (toggle 0)", async () => {
      const { device, record } = await manufacture(lab);
      const { body, toggle } = await activate(lab, device);
      assert.equal(body.decision, "approved");
      assert.deepEqual(body.reasons, []);
      assert.equal(body.networkAccess, "full");
      assert.equal(body.imei, record.imei);
      assert.ok(!(toggle instanceof Error), String(toggle));
      assert.equal(toggle.toggleKey, 0);
      assert.ok(body.dmAccount, "a DM account comes with the verdict");
      assert.equal(body.dmAccount.client.name, `IMEI:${record.imei}`);
      assert.match(body.dmAccount.serverUri, /\/carriers\/acme\/dm$/);
      // Pending full access: limited until the profile is provisioned.
      const part = lab.store.part("carrier:acme");
      assert.equal((await part.devices.get(record.imei))?.state, "approved");
      assert.equal((await part.access.get(record.imei))?.access, "limited");
      // The DM secret is stored nowhere: only the account's public half.
      const kv = await part.kv.get("dm-accounts", record.imei);
      assert.ok(kv);
      assert.ok(!JSON.stringify(kv.value).includes(body.dmAccount.client.secret));
      await device.close();
    });

    for (const [kind, reasons] of TAMPERS) {
      test(`tamper ${kind} → denied with exactly ${reasons.join(" ")}`, async () => {
        const { device, record } = await manufacture(lab);
        await device.tamper(kind);
        const { body, toggle } = await activate(lab, device);
        assert.equal(body.decision, "denied");
        // A set of reasons: listed in the vocabulary's order (CONTRACT.md "Reason codes").
        assert.deepEqual([...body.reasons].sort(), [...reasons].sort());
        assert.equal(body.networkAccess, "limited");
        assert.ok(!(toggle instanceof Error), String(toggle));
        assert.equal(toggle.toggleKey, 1);
        const part = lab.store.part("carrier:acme");
        assert.equal((await part.devices.get(record.imei))?.state, "denied");
        assert.equal((await part.access.get(record.imei))?.access, "limited");
        await device.close();
      });
    }

    test("a counterfeit certificate → ATTESTATION_INVALID, nothing about the IMEI changes", async () => {
      const { device, record } = await manufacture(lab, { counterfeit: true });
      const { body, toggle } = await activate(lab, device);
      assert.equal(body.decision, "denied");
      assert.deepEqual(body.reasons, ["ATTESTATION_INVALID"]);
      assert.ok(!(toggle instanceof Error));
      assert.equal(toggle.toggleKey, 1);
      assert.equal(body.dmAccount, null);
      const part = lab.store.part("carrier:acme");
      assert.equal(await part.devices.get(record.imei), null);
      // Audited, but no verdict in the history of the IMEI it claims: anyone could sign that.
      assert.deepEqual(await part.verdicts.forImei(record.imei), []);
      const audited = (await part.audit.list({ limit: 10_000 })).filter(
        (e) => e.action === "verdict" && e.subject === record.imei,
      );
      assert.equal(audited.length, 1);
      assert.equal(audited[0]!.details?.verdictId, null);
      assert.notEqual(audited[0]!.details?.attestation, "ok");
      await device.close();
    });

    test("replayed evidence → NONCE_REPLAYED; the first verdict stands, nothing changes", async () => {
      const { device, record } = await manufacture(lab);
      const first = await activate(lab, device);
      assert.equal(first.body.decision, "approved");
      const part = lab.store.part("carrier:acme");
      const before = await part.devices.get(record.imei);
      const again = await submit(lab, first.evidence);
      assert.equal(again.decision, "denied");
      assert.deepEqual(again.reasons, ["NONCE_REPLAYED"]);
      assert.equal(again.dmAccount, null);
      assert.deepEqual(await part.devices.get(record.imei), before);
      const recorded = await part.verdicts.byNonce(first.body.nonce);
      assert.equal(recorded?.verdict, "approved");
      assert.equal(recorded?.signed, first.body.verdict);
      await device.close();
    });

    test("one evidence sent many times at once: one approval, each other a signed replay", async () => {
      // Each submission foresees its verdict and signs it before its transaction; all of them
      // foresee a fresh nonce, but only one transaction consumes it. The others must answer
      // with a verdict signed for what their transaction found (NONCE_REPLAYED), not the
      // approval they foresaw.
      const { device, record } = await manufacture(lab);
      const { evidence } = await device.verify(await fetchNonce(lab));
      const answers = await Promise.all(Array.from({ length: 8 }, () => submit(lab, evidence)));
      const claims = answers.map(
        (a) =>
          JSON.parse(Buffer.from(a.verdict.split(".")[1]!, "base64url").toString()) as {
            verdict: string;
            reasons: string[];
          },
      );
      assert.deepEqual(
        answers.map((a) => a.decision).sort(),
        ["approved", ...Array.from({ length: 7 }, () => "denied")].sort(),
      );
      for (const [i, a] of answers.entries()) {
        assert.deepEqual(claims[i]!.reasons, a.reasons);
        assert.equal(claims[i]!.verdict, a.decision);
        if (a.decision === "denied") assert.deepEqual(a.reasons, ["NONCE_REPLAYED"]);
      }
      const part = lab.store.part("carrier:acme");
      const approved = answers.find((a) => a.decision === "approved")!;
      assert.equal((await part.verdicts.byNonce(approved.nonce))?.signed, approved.verdict);
      assert.equal((await part.devices.get(record.imei))?.state, "approved");
      await device.close();
    });

    test("an expired nonce (frozen clock) → NONCE_EXPIRED", async () => {
      const { device } = await manufacture(lab);
      const t0 = Date.now();
      lab.clock.now = t0;
      try {
        const nonce = await fetchNonce(lab);
        const { evidence } = await device.verify(nonce);
        lab.clock.now = t0 + 5 * 60_000 + 1;
        const body = await submit(lab, evidence);
        assert.deepEqual(body.reasons, ["NONCE_EXPIRED"]);
      } finally {
        lab.clock.now = null;
      }
      await device.close();
    });

    test("a nonce never issued → NONCE_EXPIRED", async () => {
      const { device } = await manufacture(lab);
      const { evidence } = await device.verify("bm90LWEtcmVhbC1ub25jZQ");
      const body = await submit(lab, evidence);
      assert.deepEqual(body.reasons, ["NONCE_EXPIRED"]);
      await device.close();
    });

    test("two devices with one IMEI → CLONE_SUSPECTED; the original keeps its state", async () => {
      const a = await manufacture(lab);
      assert.equal((await activate(lab, a.device)).body.decision, "approved");
      const b = await manufacture(lab, { imei: a.record.imei, register: false });
      const { body } = await activate(lab, b.device);
      assert.equal(body.decision, "denied");
      // The clone holds its own slot key, not the original's: its proof fails as well.
      assert.deepEqual(body.reasons, ["KEY_PROOF_INVALID", "CLONE_SUSPECTED"]);
      const part = lab.store.part("carrier:acme");
      assert.equal((await part.devices.get(a.record.imei))?.state, "approved");
      // The original's history holds only its own verdicts.
      assert.deepEqual(
        (await part.verdicts.forImei(a.record.imei)).map((v) => v.verdict),
        ["approved"],
      );
      // The original activates again without trouble.
      assert.equal((await activate(lab, a.device)).body.decision, "approved");
      await a.device.close();
      await b.device.close();
    });

    test("a clone before the original ever activated is caught by the registered key", async () => {
      const a = await manufacture(lab);
      const b = await manufacture(lab, { imei: a.record.imei, register: false });
      const { body } = await activate(lab, b.device);
      assert.ok(body.reasons.includes("CLONE_SUSPECTED"), body.reasons.join());
      assert.equal((await activate(lab, a.device)).body.decision, "approved");
      await a.device.close();
      await b.device.close();
    });

    test("blocked → DEVICE_BLOCKED; unblocked → approved", async () => {
      const { device, record } = await manufacture(lab);
      const r = await lab.call(`/devices/${record.imei}/block`, { method: "POST", admin: true });
      assert.equal(r.status, 200);
      const { body } = await activate(lab, device);
      assert.deepEqual(body.reasons, ["DEVICE_BLOCKED"]);
      await lab.call(`/devices/${record.imei}/unblock`, { method: "POST", admin: true });
      assert.equal((await activate(lab, device)).body.decision, "approved");
      await device.close();
    });

    test("terminated → off the permission list, then DEVICE_TERMINATED", async () => {
      const { device, record } = await manufacture(lab);
      assert.equal((await activate(lab, device)).body.decision, "approved");
      const part = lab.store.part("carrier:acme");
      assert.ok(await part.access.get(record.imei));
      const r = await lab.call(`/devices/${record.imei}/terminate`, {
        method: "POST",
        admin: true,
      });
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), {
        imei: record.imei,
        status: "terminated",
        networkAccess: null,
      });
      assert.equal(await part.access.get(record.imei), null);
      const { body } = await activate(lab, device);
      assert.deepEqual(body.reasons, ["DEVICE_TERMINATED"]);
      assert.equal(await part.access.get(record.imei), null, "still off the list");
      // Termination is final: neither a block nor an unblock brings the device back.
      const auditHead = await part.audit.head();
      for (const action of ["unblock", "block"]) {
        const again = await lab.call(`/devices/${record.imei}/${action}`, {
          method: "POST",
          admin: true,
        });
        assert.equal(again.status, 409, action);
        const err = (await again.json()) as { error: { code: string; message: string } };
        assert.equal(err.error.code, "CONFLICT");
        assert.match(err.error.message, /terminated; termination is final/);
      }
      assert.equal((await part.inventory.get(record.imei))?.status, "terminated");
      assert.deepEqual(await part.audit.head(), auditHead, "nothing recorded");
      assert.deepEqual((await activate(lab, device)).body.reasons, ["DEVICE_TERMINATED"]);
      await device.close();
    });

    test("a device not in the inventory → UNKNOWN_DEVICE", async () => {
      const { device } = await manufacture(lab, { register: false });
      const { body } = await activate(lab, device);
      assert.deepEqual(body.reasons, ["UNKNOWN_DEVICE"]);
      await device.close();
    });

    test("a CDMA device: MEID/ESN match; a wrong MEID in the inventory → IDENTITY_MISMATCH", async () => {
      const { device, record } = await manufacture(lab, { model: "dmg-cdma-1" });
      assert.ok(record.meid);
      assert.equal((await activate(lab, device)).body.decision, "approved");
      const part = lab.store.part("carrier:acme");
      const inv = (await part.inventory.get(record.imei))!;
      const other = `${record.meid.slice(0, -1)}${record.meid.endsWith("0") ? "1" : "0"}`;
      await part.inventory.put({ ...inv, meid: other, esn: null });
      const { body } = await activate(lab, device);
      assert.ok(body.reasons.includes("IDENTITY_MISMATCH"), body.reasons.join());
      await device.close();
    });

    test("garbage evidence → 400 EVIDENCE_MALFORMED, nothing recorded", async () => {
      const part = lab.store.part("carrier:acme");
      const head = await part.audit.head();
      for (const evidence of [
        "",
        "a.b",
        "a.b.c",
        `x.${Buffer.from("[]").toString("base64url")}.y`,
      ]) {
        const res = await lab.call("/activation/evidence", { json: { evidence } });
        assert.equal(res.status, 400, evidence);
        const err = (await res.json()) as { error: { code: string } };
        assert.match(err.error.code, /EVIDENCE_MALFORMED|INVALID_REQUEST/);
      }
      assert.deepEqual(await part.audit.head(), head);
    });

    test("a protected header that is not JSON → 400, and its nonce still works", async () => {
      const { device } = await manufacture(lab);
      const part = lab.store.part("carrier:acme");
      const nonce = await fetchNonce(lab);
      const { evidence } = await device.verify(nonce);
      const [, payload, signature] = evidence.split(".");
      const head = await part.audit.head();
      for (const header of ["not json", "[1]"]) {
        const forged = `${Buffer.from(header).toString("base64url")}.${payload}.${signature}`;
        const res = await lab.call("/activation/evidence", { json: { evidence: forged } });
        assert.equal(res.status, 400, header);
        const err = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(err.error.code, "EVIDENCE_MALFORMED");
        assert.match(err.error.message, /protected header/);
      }
      assert.deepEqual(await part.audit.head(), head, "nothing recorded");
      assert.equal((await submit(lab, evidence)).decision, "approved");
      await device.close();
    });

    test("forged evidence learns nothing of the device it names", async () => {
      const { device, record } = await manufacture(lab);
      await lab.store.part("carrier:acme").inventory.setStatus(record.imei, "blocked", Date.now());
      const forge = async (edit: (claims: Record<string, unknown>) => void) => {
        const { evidence } = await device.verify(await fetchNonce(lab));
        const [h, p, sig] = evidence.split(".");
        const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
        edit(claims);
        const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
        const broken = `${sig!.startsWith("A") ? "B" : "A"}${sig!.slice(1)}`;
        return submit(lab, `${h}.${payload}.${broken}`);
      };
      // Its own claims under a broken signature: the device is blocked, which is not told.
      const blocked = await forge(() => undefined);
      assert.deepEqual(blocked.reasons, ["ATTESTATION_INVALID"]);
      // An IMEI the carrier has never seen: unknown, which is not told either.
      const unknown = await forge((c) => {
        c.imei = "490154203237518";
      });
      assert.deepEqual(unknown.reasons, ["ATTESTATION_INVALID"]);
      // The genuine device's own evidence still hears why it is refused.
      assert.deepEqual((await activate(lab, device)).body.reasons, ["DEVICE_BLOCKED"]);
      await device.close();
    });

    test("every verdict is in the audit log, and the log verifies", async () => {
      const part = lab.store.part("carrier:acme");
      const entries = await part.audit.list({ limit: 10_000 });
      assert.ok(
        entries.some(
          (e) => e.action === "verdict" && (e.details.reasons as string[]).includes("ROOT_SU"),
        ),
      );
      const v = await lab.store.verifyAudit("carrier:acme");
      assert.equal(v.ok, true);
    });
  });
}
