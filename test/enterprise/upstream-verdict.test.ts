// The MDAS checks the upstream's signed verdict itself before acting on it: signed with the
// upstream's verdict key for the carrier (pinned, or fetched from the upstream), for the nonce
// and IMEI of the evidence it forwarded, stating the decision and reasons of the answer. A real
// HTTP "upstream" sits between the MDAS and the real carrier server / platform and lies in one
// way per test; the MDAS must refuse (VERDICT_INVALID), audit it, and change nothing.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { CompactSign, decodeJwt, exportJWK, generateKeyPair, type JWK } from "jose";
import { createRootApp } from "../../src/carrier/index.js";
import { type Device, tamperDevice } from "../../src/device/index.js";
import { registerEnterprise, type Upstream } from "../../src/enterprise/index.js";
import { issuePlatformToken } from "../../src/platform/index.js";
import { type CarrierId, makeStack, manufacture, type Stack } from "../platform/helpers.js";

const ENT = "umbrella";

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

type Answer = Record<string, unknown> & { verdict: string; nonce: string; imei: string };

/** How the upstream lies about one evidence answer (null: it passes the answer on). */
type Lie = ((a: Answer) => Promise<Answer>) | null;

interface Rogue {
  url: string;
  lie: Lie;
  /** What it serves as the verdict key (null: the real one, passed through). */
  servedKey: JWK | null;
  close(): Promise<void>;
}

/** A real HTTP server in front of the real stack that passes everything on, but can lie. */
async function rogueUpstream(s: Stack): Promise<Rogue> {
  const r: Rogue = { url: "", lie: null, servedKey: null, close: async () => undefined };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = req.url ?? "/";
    if (path.endsWith("/verdict-key") && r.servedKey) {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ jwk: r.servedKey }));
      return;
    }
    const headers: Record<string, string> = {};
    for (const h of ["content-type", "authorization", "accept"]) {
      const v = req.headers[h];
      if (typeof v === "string") headers[h] = v;
    }
    const up = await fetch(`${s.base}${path}`, {
      method: req.method ?? "GET",
      headers,
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    });
    let text = await up.text();
    const isEvidence = /\/activation\/evidence$|\/platform\/verifications$/.test(path);
    if (isEvidence && up.ok && r.lie) text = JSON.stringify(await r.lie(JSON.parse(text)));
    res.statusCode = up.status;
    res.setHeader("content-type", up.headers.get("content-type") ?? "application/json");
    res.end(text);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r.close = () => new Promise<void>((ok) => server.close(() => ok()));
  return r;
}

/** Signs `claims` as a verdict with `key` (what a rogue with its own key would send). */
async function signWith(key: PrivateKey, claims: unknown): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: "ES256", typ: "verdict+jwt" })
    .sign(key);
}

describe("the MDAS verifies the upstream's signed verdict", () => {
  let s: Stack;
  let rogue: Rogue;
  let app: FastifyInstance;
  let base: string;
  let rogueKey: { privateKey: PrivateKey; publicJwk: JWK };
  let realAcmeKey: JWK;

  before(async () => {
    s = await makeStack();
    rogue = await rogueUpstream(s);
    const kp = await generateKeyPair("ES256", { extractable: true });
    rogueKey = { privateKey: kp.privateKey, publicJwk: await exportJWK(kp.publicKey) };
    realAcmeKey = ((await (await s.call("/carriers/acme/verdict-key")).json()) as { jwk: JWK }).jwk;
    // A second enterprise whose upstreams are the lying server: acme as a carrier server
    // (fetched key), globex through the platform (fetched key), and "pinned" acme below.
    const tenant = await s.call("/platform/tenants", {
      token: s.operatorToken,
      json: { kind: "enterprise", id: ENT, carriers: ["globex"] },
    });
    assert.equal(tenant.status, 200);
    const { token } = await issuePlatformToken(s.store, {
      holders: [`enterprise:${ENT}`],
      scopes: ["verify"],
    });
    const upstreams: Record<string, Upstream> = {
      acme: { kind: "carrier", baseUrl: () => rogue.url },
      globex: { kind: "platform", baseUrl: () => rogue.url, token },
    };
    app = createRootApp();
    await registerEnterprise(app, {
      enterpriseId: ENT,
      store: s.store,
      keystore: s.carrierKs,
      upstreams,
    });
    base = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  after(async () => {
    await app.close();
    await rogue.close();
    await s.close();
  });

  async function activate(device: Device, carrier: CarrierId, ent = ENT, at = base) {
    const n = await fetch(`${at}/enterprises/${ent}/activation/nonce`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ carrier }),
    });
    assert.equal(n.status, 200, await n.clone().text());
    const { nonce } = (await n.json()) as { nonce: string };
    const { evidence } = await device.verify(nonce, { carrier });
    return fetch(`${at}/enterprises/${ent}/activation/evidence`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ evidence }),
    });
  }

  /** Refused with VERDICT_INVALID for `why`; audited; the MDAS holds nothing for the device. */
  async function assertRefused(res: Response, imei: string, why: string) {
    const text = await res.text();
    assert.equal(res.status, 502, text);
    const body = JSON.parse(text) as { error: { code: string; details?: { why?: string } } };
    assert.equal(body.error.code, "VERDICT_INVALID");
    assert.equal(body.error.details?.why, why);
    const part = s.store.part(`enterprise:${ENT}`);
    assert.equal(await part.devices.get(imei), null);
    assert.equal(await part.access.get(imei), null);
    assert.deepEqual(await part.verdicts.forImei(imei), []);
    const log = await part.audit.list({ limit: 10_000 });
    const refused = log.filter((e) => e.subject === imei && e.action === "activation-refused");
    assert.equal(refused.length, 1);
    assert.equal((refused[0]!.details as { why: string }).why, `upstream verdict: ${why}`);
  }

  // Each test sets its own lie; each starts honest.
  beforeEach(() => {
    rogue.lie = null;
    rogue.servedKey = null;
  });

  test("an honest upstream: the verdict verifies under the fetched key, the device is judged", async () => {
    const { device, record } = await manufacture(s, "acme");
    const res = await activate(device, "acme");
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { decision: string; reasons: string[] };
    // Not enrolled at this enterprise, but the integrity verdict was believed and recorded.
    assert.deepEqual(body.reasons, ["NOT_ENROLLED"]);
    assert.equal(
      (await s.store.part(`enterprise:${ENT}`).devices.get(record.imei))?.state,
      "denied",
    );
  });

  test("the carrier's verdict re-signed with another key → VERDICT_INVALID (signature)", async () => {
    const { device, record } = await manufacture(s, "acme");
    await tamperDevice(device.dir, "su");
    rogue.servedKey = null;
    // Claims an approval for a rooted device, under a key that is not acme's.
    rogue.lie = async (a) => {
      const claims = { ...decodeJwt(a.verdict), verdict: "approved", reasons: [] };
      return {
        ...a,
        decision: "approved",
        reasons: [],
        verdict: await signWith(rogueKey.privateKey, claims),
      };
    };
    await assertRefused(await activate(device, "acme"), record.imei, "signature");
  });

  test("the platform's verdict re-signed with another key → VERDICT_INVALID (signature)", async () => {
    const { device, record } = await manufacture(s, "globex");
    rogue.servedKey = null;
    rogue.lie = async (a) => ({
      ...a,
      verdict: await signWith(rogueKey.privateKey, decodeJwt(a.verdict)),
    });
    await assertRefused(await activate(device, "globex"), record.imei, "signature");
  });

  test("a genuine verdict for an earlier nonce (a replay) → VERDICT_INVALID (nonce)", async () => {
    const { device, record } = await manufacture(s, "acme");
    let earlier: string | null = null;
    rogue.lie = async (a) => {
      earlier = a.verdict;
      return a;
    };
    assert.equal((await activate(device, "acme")).status, 200);
    assert.ok(earlier);
    // The same device again: the upstream answers with the old, really signed verdict.
    rogue.lie = async (a) => ({ ...a, verdict: earlier! });
    const res = await activate(device, "acme");
    const text = await res.text();
    assert.equal(res.status, 502, text);
    assert.equal(JSON.parse(text).error.details.why, "nonce");
    const log = await s.store.part(`enterprise:${ENT}`).audit.list({ limit: 10_000 });
    assert.ok(log.some((e) => e.subject === record.imei && e.action === "activation-refused"));
  });

  test("a genuine verdict for another device → VERDICT_INVALID (nonce, then IMEI)", async () => {
    const other = await manufacture(s, "acme");
    let otherVerdict = "";
    rogue.lie = async (a) => {
      otherVerdict = a.verdict;
      return a;
    };
    assert.equal((await activate(other.device, "acme")).status, 200);
    const { device, record } = await manufacture(s, "acme");
    rogue.lie = async (a) => ({ ...a, verdict: otherVerdict });
    await assertRefused(await activate(device, "acme"), record.imei, "nonce");
    // The same lie signed by a rogue whose key the MDAS fetched from it: bound to the nonce it
    // forwarded but another IMEI.
    const third = await manufacture(s, "acme");
    rogue.servedKey = rogueKey.publicJwk;
    rogue.lie = async (a) => ({
      ...a,
      verdict: await signWith(rogueKey.privateKey, {
        ...decodeJwt(a.verdict),
        imei: other.record.imei,
      }),
    });
    await assertRefused(await activate(third.device, "acme"), third.record.imei, "imei");
  });

  test("an answer that says approved over a signed denial → VERDICT_INVALID (decision)", async () => {
    const { device, record } = await manufacture(s, "acme");
    await tamperDevice(device.dir, "su");
    rogue.servedKey = null;
    rogue.lie = async (a) => ({ ...a, decision: "approved", reasons: [] });
    await assertRefused(await activate(device, "acme"), record.imei, "decision");
  });

  test("a pinned key wins over whatever the upstream serves as its key", async () => {
    // Another enterprise on the same app pins acme's real key; the rogue serves its own key and
    // signs with it, consistently.
    const pinnedApp = createRootApp();
    await registerEnterprise(pinnedApp, {
      enterpriseId: "pinned",
      store: s.store,
      keystore: s.carrierKs,
      upstreams: { acme: { kind: "carrier", baseUrl: () => rogue.url, verdictKey: realAcmeKey } },
    });
    const at = await pinnedApp.listen({ port: 0, host: "127.0.0.1" });
    try {
      const { device, record } = await manufacture(s, "acme");
      rogue.servedKey = rogueKey.publicJwk;
      rogue.lie = async (a) => ({
        ...a,
        verdict: await signWith(rogueKey.privateKey, decodeJwt(a.verdict)),
      });
      const res = await activate(device, "acme", "pinned", at);
      const text = await res.text();
      assert.equal(res.status, 502, text);
      assert.equal(JSON.parse(text).error.code, "VERDICT_INVALID");
      assert.equal(await s.store.part("enterprise:pinned").devices.get(record.imei), null);
      // And the honest answer verifies under the pinned key.
      rogue.servedKey = null;
      rogue.lie = null;
      const ok = await activate(device, "acme", "pinned", at);
      assert.equal(ok.status, 200, await ok.clone().text());
    } finally {
      await pinnedApp.close();
    }
  });

  test("the enterprise's audit chain verifies after the refusals", async () => {
    assert.equal((await s.store.verifyAudit(`enterprise:${ENT}`)).ok, true);
  });
});
