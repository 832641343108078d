// The common platform: scoped, hashed, expiring tokens; per-carrier custody; verification and
// migration answers that are yes/no with reasons and never key material.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { tamperDevice } from "../../src/device/index.js";
import { issuePlatformToken } from "../../src/platform/index.js";
import { makeStack, manufacture, platformVerify, type Stack } from "./helpers.js";

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

describe("common platform", () => {
  let s: Stack;
  before(async () => {
    s = await makeStack();
  });
  after(() => s.close());

  test("a carrier verifies its own device: approved, with a verdict its TSZ accepts", async () => {
    const { device } = await manufacture(s, "globex");
    const res = await platformVerify(s, device, "globex", s.carrierToken.globex);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.decision, "approved");
    assert.deepEqual(body.reasons, []);
    assert.equal(body.via, "carrier:globex");
    assert.equal((await device.acceptVerdict(body.verdict as string)).toggleKey, 0);
    assert.deepEqual(Object.keys(body).sort(), [
      "carrier",
      "decision",
      "imei",
      "networkAccess",
      "nonce",
      "reasons",
      "verdict",
      "via",
    ]);
  });

  test("a tampered device: the device's reasons, denied", async () => {
    const { device } = await manufacture(s, "globex");
    await tamperDevice(device.dir, "su");
    const body = (await (
      await platformVerify(s, device, "globex", s.carrierToken.globex)
    ).json()) as { reasons: string[] };
    assert.deepEqual(body.reasons, ["ROOT_SU"]);
  });

  test("a clone naming a genuine device's IMEI: denied, audited, not in that device's history", async () => {
    const a = await manufacture(s, "globex");
    const ok = (await (
      await platformVerify(s, a.device, "globex", s.carrierToken.globex)
    ).json()) as { decision: string };
    assert.equal(ok.decision, "approved");
    const clone = await manufacture(s, "globex", {
      imei: a.record.imei,
      register: false,
      deposit: false,
    });
    const body = (await (
      await platformVerify(s, clone.device, "globex", s.carrierToken.globex)
    ).json()) as { decision: string; reasons: string[] };
    assert.equal(body.decision, "denied");
    assert.ok(body.reasons.includes("CLONE_SUSPECTED"), body.reasons.join());
    const part = s.store.part("platform");
    assert.deepEqual(
      (await part.verdicts.forImei(a.record.imei)).map((v) => v.verdict),
      ["approved"],
    );
    const audited = (await part.audit.list({ limit: 10_000 })).filter(
      (e) => e.action === "verification" && e.subject === a.record.imei,
    );
    assert.equal(audited.length, 2, "both verifications are in the audit log");
  });

  test("a nonce request carries nothing: a body that is not {} is refused", async () => {
    const token = s.carrierToken.globex;
    for (const json of [[1, 2], { imei: "359991010000012" }, "x"]) {
      const r = await s.call("/platform/verifications/nonce", { token, json });
      assert.equal(r.status, 400, JSON.stringify(json));
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, "INVALID_REQUEST");
    }
    for (const init of [{ method: "POST" }, { json: {} }]) {
      const r = await s.call("/platform/verifications/nonce", { token, ...init });
      assert.equal(r.status, 200, JSON.stringify(init));
    }
  });

  test("one evidence sent many times at once: one approval, each other a signed replay", async () => {
    // The platform foresees and signs each verdict before its transaction; only one of these
    // transactions consumes the nonce, and the others must answer with what they found.
    const { device } = await manufacture(s, "globex");
    const token = s.carrierToken.globex;
    const n = await s.call("/platform/verifications/nonce", { method: "POST", token });
    const { nonce } = (await n.json()) as { nonce: string };
    const { evidence } = await device.verify(nonce, { carrier: "globex" });
    const answers = (await Promise.all(
      Array.from({ length: 8 }, async () =>
        (await s.call("/platform/verifications", { token, json: { evidence } })).json(),
      ),
    )) as Array<{ decision: string; reasons: string[]; verdict: string }>;
    assert.deepEqual(
      answers.map((a) => a.decision).sort(),
      ["approved", ...Array.from({ length: 7 }, () => "denied")].sort(),
    );
    for (const a of answers) {
      const claims = JSON.parse(Buffer.from(a.verdict.split(".")[1]!, "base64url").toString());
      assert.deepEqual(claims.reasons, a.reasons);
      assert.equal(claims.verdict, a.decision);
      if (a.decision === "denied") assert.deepEqual(a.reasons, ["NONCE_REPLAYED"]);
    }
  });

  test("a carrier token used for another carrier's device: TOKEN_INVALID, the same bytes whether it exists or not", async () => {
    const known = await manufacture(s, "acme");
    const unknown = await manufacture(s, "acme", { deposit: false, register: false });
    const answers: Array<{ status: number; text: string }> = [];
    for (const d of [known, unknown]) {
      const res = await platformVerify(s, d.device, "acme", s.carrierToken.globex);
      answers.push({ status: res.status, text: await res.text() });
    }
    assert.equal(answers[0]!.status, 401);
    assert.deepEqual(answers[0], answers[1]);
    assert.equal(JSON.parse(answers[0]!.text).error.code, "TOKEN_INVALID");
    // Custody is refused the same way.
    const res = await s.call(`/platform/custody/acme/devices/${known.record.imei}/status`, {
      token: s.carrierToken.globex,
      json: { status: "blocked" },
    });
    assert.equal(res.status, 401);
    assert.equal(await res.text(), answers[0]!.text);
  });

  test("a common token serves each carrier of its group", async () => {
    const { token } = await issuePlatformToken(s.store, {
      holders: ["carrier:acme", "carrier:globex"],
      scopes: ["verify"],
    });
    for (const c of ["acme", "globex"] as const) {
      const { device } = await manufacture(s, c);
      const body = (await (await platformVerify(s, device, c, token)).json()) as {
        decision: string;
        via: string;
      };
      assert.equal(body.decision, "approved");
      assert.equal(body.via, `carrier:${c}`);
    }
  });

  test("revoked, rotated and expired tokens are refused (frozen clock)", async () => {
    const { device } = await manufacture(s, "globex");
    const issued = (await (
      await s.call("/platform/tokens", {
        token: s.operatorToken,
        json: { holders: ["carrier:globex"], scopes: ["verify"], ttlSeconds: 3600 },
      })
    ).json()) as { id: string; token: string };
    assert.equal((await platformVerify(s, device, "globex", issued.token)).status, 200);

    const rotated = (await (
      await s.call(`/platform/tokens/${issued.id}/rotate`, {
        method: "POST",
        token: s.operatorToken,
      })
    ).json()) as { id: string; token: string };
    assert.equal((await platformVerify(s, device, "globex", issued.token)).status, 401);
    assert.equal((await platformVerify(s, device, "globex", rotated.token)).status, 200);

    const revoke = await s.call(`/platform/tokens/${rotated.id}/revoke`, {
      method: "POST",
      token: s.operatorToken,
    });
    assert.equal(revoke.status, 200);
    const refused = await platformVerify(s, device, "globex", rotated.token);
    assert.equal(refused.status, 401);
    assert.equal(
      ((await refused.json()) as { error: { code: string } }).error.code,
      "TOKEN_INVALID",
    );

    const t0 = Date.now();
    s.clock.now = t0;
    const short = await issuePlatformToken(
      s.store,
      { holders: ["carrier:globex"], scopes: ["verify"], ttlMs: 60_000 },
      t0,
    );
    assert.equal((await platformVerify(s, device, "globex", short.token)).status, 200);
    s.clock.now = t0 + 60_001;
    try {
      assert.equal((await platformVerify(s, device, "globex", short.token)).status, 401);
    } finally {
      s.clock.now = null;
    }
  });

  test("a token without the scope is refused; only the operator issues tokens", async () => {
    const { device } = await manufacture(s, "globex");
    const { token } = await issuePlatformToken(s.store, {
      holders: ["carrier:globex"],
      scopes: ["custody"],
    });
    assert.equal((await platformVerify(s, device, "globex", token)).status, 401);
    const res = await s.call("/platform/tokens", {
      token: s.carrierToken.globex,
      json: { holders: ["carrier:acme"], scopes: ["verify"] },
    });
    assert.equal(res.status, 401);
  });

  test("migration questions: genuine, blocked, subsidy-locked; nothing about who holds what", async () => {
    const { device, record } = await manufacture(s, "acme");
    const ask = async () => {
      const { evidence } = await device.verify("bWlncmF0aW9uLW5vbmNl", { carrier: "acme" });
      const res = await s.call("/platform/migration/questions", {
        token: s.carrierToken.globex,
        json: { evidence },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("cache-control"), "no-store");
      return (await res.json()) as Record<string, unknown>;
    };
    assert.deepEqual(await ask(), {
      genuine: true,
      blocked: false,
      subsidyLocked: false,
      terminated: false,
      reasons: [],
    });
    const mark = (json: unknown) =>
      s.call(`/platform/custody/acme/devices/${record.imei}/status`, {
        token: s.carrierToken.acme,
        json,
      });
    assert.equal((await mark({ status: "blocked", contractEnd: "2999-01-01" })).status, 200);
    const a = await ask();
    assert.equal(a.genuine, true);
    assert.equal(a.blocked, true);
    assert.equal(a.subsidyLocked, true);
    assert.deepEqual(a.reasons, ["DEVICE_BLOCKED", "SUBSIDY_LOCKED"]);

    // Evidence that fails attestation learns nothing of that record: a broken signature over
    // the same claims, and claims naming an IMEI the platform has never seen, answer alike.
    const { evidence } = await device.verify("bWlncmF0aW9uLW5vbmNl", { carrier: "acme" });
    const [h, p, sig] = evidence.split(".");
    const otherImei = JSON.parse(Buffer.from(p!, "base64url").toString());
    otherImei.imei = "490154203237518";
    const forgeries = [
      `${h}.${p}.${sig!.startsWith("A") ? "B" : "A"}${sig!.slice(1)}`,
      `${h}.${Buffer.from(JSON.stringify(otherImei)).toString("base64url")}.${sig}`,
    ];
    for (const forged of forgeries) {
      const res = await s.call("/platform/migration/questions", {
        token: s.carrierToken.globex,
        json: { evidence: forged },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        genuine: false,
        blocked: false,
        subsidyLocked: false,
        terminated: false,
        reasons: ["ATTESTATION_INVALID"],
      });
    }
  });

  test("custody rows hold no readable key bytes; the keystore dir neither", async () => {
    const { slotKey, record } = await manufacture(s, "acme");
    const b = Buffer.from(slotKey);
    const needles = [
      b.toString("hex"),
      b.toString("base64"),
      b.toString("base64url"),
      b.toString("hex").toUpperCase(),
    ];
    const rows = await s.store.part("platform").kv.list("custody/acme");
    assert.ok(rows.length > 0);
    for (const r of rows) {
      const text = JSON.stringify(r);
      for (const n of [...needles, record.imei, record.kid])
        assert.ok(!text.includes(n), "a custody row is readable");
    }
    for (const f of [
      ...(await filesUnder(s.dataDir)),
      ...(await filesUnder(s.platformKeystoreDir)),
    ]) {
      const bytes = await readFile(f);
      assert.ok(bytes.indexOf(b) < 0, `${f} holds the raw key`);
      const text = bytes.toString("latin1");
      for (const n of needles) assert.ok(!text.includes(n), `${f} holds the key as text`);
    }
  });

  test("every decision is in the platform's audit log, and the chain verifies", async () => {
    const entries = await s.store.part("platform").audit.list({ limit: 10_000 });
    const actions = new Set(entries.map((e) => e.action));
    for (const a of [
      "custody-deposit",
      "verification",
      "verification-refused",
      "migration-question",
      "token-issued",
      "token-rotated",
      "token-revoked",
    ]) {
      assert.ok(actions.has(a), `no ${a} entry`);
    }
    const v = await s.store.verifyAudit("platform");
    assert.equal(v.ok, true);
  });
});
