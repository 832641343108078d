// Carrier → platform custody sync: a carrier's block, unblock, terminate and first approval reach
// its custody record at the platform through an outbox in the carrier's own store. The carrier
// and the platform run as two servers (real HTTP on loopback, one SQLite file, two keystores), so
// the platform can go down and come back on the same port while the carrier keeps working.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import type { JWK } from "jose";
import {
  type CarrierContext,
  createRootApp,
  issueAdminToken,
  registerCarrier,
} from "../../src/carrier/index.js";
import { createOemCa, type Device } from "../../src/device/index.js";
import { importRecipientPublicKey, sealDeviceKey } from "../../src/keystore/hpke-suite.js";
import { type Keystore, openSoftwareKeystore } from "../../src/keystore/index.js";
import { issuePlatformToken, registerPlatform } from "../../src/platform/index.js";
import type { Store } from "../../src/store/index.js";
import { BACKENDS, type TestBackend } from "../store/backends.js";
import { CARRIERS, type CarrierId, manufacture, platformVerify, type Stack } from "./helpers.js";

interface SyncLab {
  /** Enough of helpers.ts's Stack for manufacture() and platformVerify(). */
  s: Stack;
  store: Store;
  carriers: Record<CarrierId, CarrierContext>;
  platformBase: string;
  /** The token each carrier's sync sends, and the platform URL it sends to (tests swap them). */
  syncToken: Record<CarrierId, string>;
  syncUrl: Record<CarrierId, string>;
  platformUp(): Promise<void>;
  platformDown(): Promise<void>;
  close(): Promise<void>;
}

async function makeSyncLab(backend: TestBackend): Promise<SyncLab> {
  const root = await mkdtemp(join(tmpdir(), "dmguard-sync-"));
  const db = await backend.setup();
  const store = await db.open();
  const carrierKs = await openSoftwareKeystore({ dir: join(root, "carrier-keystore") });
  const platformKsDir = join(root, "platform-keystore");
  const ca = await createOemCa({ name: "Sync OEM" });
  const pems = [ca.certificatePem];
  const carrierToken = {} as Record<CarrierId, string>;
  for (const c of CARRIERS) {
    carrierToken[c] = (
      await issuePlatformToken(store, {
        holders: [`carrier:${c}`],
        scopes: ["custody", "verify", "migrate"],
      })
    ).token;
  }

  // The platform: its own app and keystore; the port is kept so a restart takes the same one.
  let platform: { app: FastifyInstance; ks: Keystore } | null = null;
  let platformPort = 0;
  const platformUp = async () => {
    const ks = await openSoftwareKeystore({ dir: platformKsDir });
    const app = createRootApp();
    await registerPlatform(app, {
      store,
      keystore: ks,
      oemCaCertificatePems: pems,
      carriers: CARRIERS,
      enterprises: [],
    });
    await app.listen({ port: platformPort, host: "127.0.0.1" });
    platformPort = (app.server.address() as AddressInfo).port;
    platform = { app, ks };
  };
  const platformDown = async () => {
    await platform?.app.close();
    await platform?.ks.close();
    platform = null;
  };
  await platformUp();
  const platformBase = `http://127.0.0.1:${platformPort}`;

  const carrierApp = createRootApp();
  const carriers = {} as Record<CarrierId, CarrierContext>;
  const syncToken = { ...carrierToken };
  const syncUrl = { acme: `${platformBase}/platform`, globex: `${platformBase}/platform` };
  for (const c of CARRIERS) {
    carriers[c] = await registerCarrier(carrierApp, {
      carrierId: c,
      store,
      keystore: carrierKs,
      oemCaCertificatePems: pems,
      platformSync: {
        url: () => syncUrl[c],
        token: () => syncToken[c],
        retryBaseMs: 20,
        retryMaxMs: 200,
        pollMs: 25,
      },
    });
  }
  const base = await carrierApp.listen({ port: 0, host: "127.0.0.1" });
  const carrierAdmin = {} as Record<CarrierId, string>;
  for (const c of CARRIERS) carrierAdmin[c] = await issueAdminToken(store, c);

  const s = {
    root,
    ca,
    base,
    carrierKs,
    carrierAdmin,
    carrierToken,
    pinned: {} as Stack["pinned"],
    call(path, init = {}) {
      const headers: Record<string, string> = {};
      if (init.json !== undefined) headers["content-type"] = "application/json";
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
      const to = path.startsWith("/platform/") ? platformBase : base;
      return fetch(`${to}${path}`, {
        method: init.method ?? (body !== undefined ? "POST" : "GET"),
        headers,
        ...(body !== undefined ? { body } : {}),
      });
    },
  } as Stack;
  for (const c of CARRIERS) {
    const own = (await (await s.call(`/carriers/${c}/verdict-key`)).json()) as { jwk: JWK };
    const plat = (await (await s.call(`/platform/carriers/${c}/verdict-key`)).json()) as {
      jwk: JWK;
    };
    s.pinned[c] = [
      { carrier: c, jwk: own.jwk },
      { carrier: c, jwk: plat.jwk },
    ];
  }
  return {
    s,
    store,
    carriers,
    syncToken,
    syncUrl,
    platformBase,
    platformUp,
    platformDown,
    async close() {
      await carrierApp.close();
      await platformDown();
      await carrierKs.close();
      await store.close();
      await db.cleanup();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Waits (up to 20 s) for `cond`; a wait, not a timing assertion. */
async function until(what: string, cond: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 20_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const backend of BACKENDS)
  describe(`carrier → platform custody sync (${backend.name})`, () => {
    let lab: SyncLab;
    let s: Stack;
    before(async () => {
      lab = await makeSyncLab(backend);
      s = lab.s;
    });
    after(() => lab.close());

    const admin = (c: CarrierId, imei: string, action: string) =>
      s.call(`/carriers/${c}/devices/${imei}/${action}`, {
        method: "POST",
        token: s.carrierAdmin[c],
      });
    const drained = (c: CarrierId) =>
      until(`${c}'s outbox to drain`, async () => {
        return (await lab.carriers[c].platformSync!.pending()).length === 0;
      });
    const reasonsAtPlatform = async (device: Device, c: CarrierId) => {
      const res = await platformVerify(s, device, c, s.carrierToken[c]);
      assert.equal(res.status, 200);
      return ((await res.json()) as { reasons: string[] }).reasons;
    };
    const event = (c: CarrierId, imei: string, json: unknown, token = s.carrierToken[c]) =>
      s.call(`/platform/custody/${c}/devices/${imei}/events`, { token, json });
    const events = (c: CarrierId, json: unknown, token = s.carrierToken[c]) =>
      s.call(`/platform/custody/${c}/events`, { token, json });

    test("block → DEVICE_BLOCKED at the platform; unblock clears it; terminate → DEVICE_TERMINATED", async () => {
      const { device, record } = await manufacture(s, "acme");
      assert.deepEqual(await reasonsAtPlatform(device, "acme"), []);

      assert.equal((await admin("acme", record.imei, "block")).status, 200);
      await drained("acme");
      assert.deepEqual(await reasonsAtPlatform(device, "acme"), ["DEVICE_BLOCKED"]);

      assert.equal((await admin("acme", record.imei, "unblock")).status, 200);
      await drained("acme");
      assert.deepEqual(await reasonsAtPlatform(device, "acme"), []);

      assert.equal((await admin("acme", record.imei, "terminate")).status, 200);
      await drained("acme");
      assert.deepEqual(await reasonsAtPlatform(device, "acme"), ["DEVICE_TERMINATED"]);

      // Both sides audited it: the carrier's action with its event version, the platform each
      // event it applied.
      const carrierLog = await lab.store.part("carrier:acme").audit.list({ limit: 10_000 });
      const mine = carrierLog.filter((e) => e.subject === record.imei);
      assert.deepEqual(
        mine
          .filter((e) => ["block", "unblock", "terminate"].includes(e.action))
          .map((e) => [
            e.action,
            (e.details as { platformSyncVersion?: number }).platformSyncVersion,
          ]),
        [
          ["block", 1],
          ["unblock", 2],
          ["terminate", 3],
        ],
      );
      const platformLog = await lab.store.part("platform").audit.list({ limit: 10_000 });
      const applied = platformLog.filter(
        (e) => e.subject === record.imei && e.action === "custody-event",
      );
      assert.deepEqual(
        applied.map((e) => (e.details as { version: number }).version),
        [1, 2, 3],
      );
      // Which token sent each (its id, never its value): another holder of acme's custody
      // scope, one the operator issued, is told apart from acme's own.
      const ids = new Set(applied.map((e) => (e.details as { tokenId?: unknown }).tokenId));
      assert.equal(ids.size, 1);
      const [id] = ids;
      assert.equal(typeof id, "string");
      assert.ok(!JSON.stringify(applied).includes(s.carrierToken.acme), "no token value");
      assert.equal((await lab.store.verifyAudit("carrier:acme")).ok, true);
      assert.equal((await lab.store.verifyAudit("platform")).ok, true);

      // Termination is final on both sides: the carrier refuses to unblock, and a later status
      // event or mark sent to the platform straight does not bring the record back either.
      assert.equal((await admin("acme", record.imei, "unblock")).status, 409);
      const late = await event("acme", record.imei, { event: "unblocked", version: 1_000_000 });
      assert.equal(late.status, 200);
      assert.equal(((await late.json()) as { applied: boolean }).applied, false);
      const marked = await s.call(`/platform/custody/acme/devices/${record.imei}/status`, {
        token: s.carrierToken.acme,
        json: { status: "active" },
      });
      assert.equal(marked.status, 409);
      assert.deepEqual(await reasonsAtPlatform(device, "acme"), ["DEVICE_TERMINATED"]);
    });

    test("the platform down during a block: kept in the outbox, delivered when it is back", async () => {
      const { device, record } = await manufacture(s, "globex");
      const sync = lab.carriers.globex.platformSync!;
      await lab.platformDown();
      try {
        const res = await admin("globex", record.imei, "block");
        assert.equal(res.status, 200, "the carrier blocks whether or not the platform answers");
        assert.equal(((await res.json()) as { status: string }).status, "blocked");
        // A delivery failed: the platform backs off as a whole, the row is kept as it was
        // (the platform judged nothing), due the moment the platform is back.
        await until("a failed delivery", async () => (sync.platformBackoff?.failures ?? 0) >= 1);
        assert.match(sync.platformBackoff?.why ?? "", /unreachable/);
        const [row] = (await sync.pending()).filter((r) => r.imei === record.imei);
        assert.equal(row?.event, "blocked");
        assert.equal(row?.attempts, 0);
        assert.equal(row?.lastError, undefined);
      } finally {
        await lab.platformUp();
      }
      await drained("globex");
      assert.deepEqual(await reasonsAtPlatform(device, "globex"), ["DEVICE_BLOCKED"]);
    });

    test("events while the platform is down coalesce to the newest: block then unblock → active", async () => {
      const { device, record } = await manufacture(s, "globex");
      await lab.platformDown();
      try {
        assert.equal((await admin("globex", record.imei, "block")).status, 200);
        assert.equal((await admin("globex", record.imei, "unblock")).status, 200);
        const rows = (await lab.carriers.globex.platformSync!.pending()).filter(
          (r) => r.imei === record.imei,
        );
        assert.deepEqual(
          rows.map((r) => [r.event, r.version]),
          [["unblocked", 2]],
        );
      } finally {
        await lab.platformUp();
      }
      await drained("globex");
      assert.deepEqual(await reasonsAtPlatform(device, "globex"), []);
    });

    test("a token the platform refuses: retried, not dropped; delivered once the token is good", async () => {
      const { device, record } = await manufacture(s, "acme");
      const { token: verifyOnly } = await issuePlatformToken(lab.store, {
        holders: ["carrier:acme"],
        scopes: ["verify"],
      });
      lab.syncToken.acme = verifyOnly;
      try {
        assert.equal((await admin("acme", record.imei, "block")).status, 200);
        const sync = lab.carriers.acme.platformSync!;
        await until("refused deliveries", async () => (sync.platformBackoff?.failures ?? 0) >= 2);
        assert.equal(sync.platformBackoff?.why, "TOKEN_INVALID");
        const [row] = (await sync.pending()).filter((r) => r.imei === record.imei);
        assert.equal(row?.attempts, 0, "a refused token says nothing of the row");
        assert.deepEqual(await reasonsAtPlatform(device, "acme"), []);
      } finally {
        lab.syncToken.acme = s.carrierToken.acme;
      }
      await drained("acme");
      assert.deepEqual(await reasonsAtPlatform(device, "acme"), ["DEVICE_BLOCKED"]);
    });

    test("a platform URL that is no platform (404 NOT_FOUND, no such route): retried, not dropped", async () => {
      const { device, record } = await manufacture(s, "acme");
      lab.syncUrl.acme = `${lab.platformBase}/not-the-platform`;
      try {
        assert.equal((await admin("acme", record.imei, "block")).status, 200);
        const sync = lab.carriers.acme.platformSync!;
        // The batch route's 404 sends the row alone, whose bare 404 backs the platform off.
        await until("refused deliveries", async () => (sync.platformBackoff?.failures ?? 0) >= 2);
        assert.equal(sync.platformBackoff?.why, "NOT_FOUND");
        const [row] = (await sync.pending()).filter((r) => r.imei === record.imei);
        assert.equal(row?.attempts, 0);
      } finally {
        lab.syncUrl.acme = `${lab.platformBase}/platform`;
      }
      await drained("acme");
      assert.deepEqual(await reasonsAtPlatform(device, "acme"), ["DEVICE_BLOCKED"]);
    });

    test("a repeated or late event never undoes a newer one", async () => {
      const { device, record, slotKey } = await manufacture(s, "acme");
      const post = async (json: unknown) => {
        const res = await event("acme", record.imei, json);
        assert.equal(res.status, 200);
        return (await res.json()) as { status: string; version: number; applied: boolean };
      };
      assert.deepEqual(await post({ event: "blocked", version: 5 }), {
        imei: record.imei,
        status: "blocked",
        activatedAt: null,
        version: 5,
        applied: true,
      });
      // Late (version 4) and repeated (version 5): nothing changes.
      const late = await post({ event: "unblocked", version: 4 });
      assert.equal(late.applied, false);
      assert.equal(late.status, "blocked");
      const again = await post({ event: "blocked", version: 5 });
      assert.equal(again.applied, false);
      assert.deepEqual(await reasonsAtPlatform(device, "acme"), ["DEVICE_BLOCKED"]);
      // A re-deposit of the record (a retried deposit) keeps the status and the version.
      const transport = (await (await s.call("/platform/transport-key")).json()) as {
        jwk: unknown;
      };
      const redeposit = async (extra: Record<string, unknown> = {}) =>
        s.call(`/platform/custody/acme/devices/${record.imei}`, {
          method: "PUT",
          token: s.carrierToken.acme,
          json: {
            model: record.model,
            meid: record.meid,
            esn: record.esn,
            kid: record.kid,
            attestationKey: record.attestationCertificatePem,
            ...extra,
            wrappedKey: await sealDeviceKey(
              await importRecipientPublicKey(transport.jwk),
              "carrier:acme",
              record.kid,
              slotKey,
            ),
          },
        });
      const again2 = await redeposit();
      assert.equal(again2.status, 200, await again2.clone().text());
      assert.equal((await post({ event: "unblocked", version: 5 })).applied, false);
      assert.deepEqual(await reasonsAtPlatform(device, "acme"), ["DEVICE_BLOCKED"]);
      // Nor does a re-deposit that names a lower status clear the block.
      const lower = await redeposit({ status: "active" });
      assert.equal(lower.status, 200, await lower.clone().text());
      assert.equal(((await lower.json()) as { status: string }).status, "blocked");
      assert.deepEqual(await reasonsAtPlatform(device, "acme"), ["DEVICE_BLOCKED"]);
      const newer = await post({ event: "unblocked", version: 6 });
      assert.equal(newer.applied, true);
      assert.equal(newer.status, "active");
      assert.deepEqual(await reasonsAtPlatform(device, "acme"), []);
    });

    test("the first approval's date reaches the platform once; a later date never replaces it", async () => {
      const { device, record } = await manufacture(s, "acme");
      const activate = async () => {
        const n = await s.call("/carriers/acme/activation/nonce", { json: { imei: record.imei } });
        const { nonce } = (await n.json()) as { nonce: string };
        const { evidence } = await device.verify(nonce, { carrier: "acme" });
        const res = await s.call("/carriers/acme/activation/evidence", { json: { evidence } });
        assert.equal(res.status, 200);
        assert.equal(((await res.json()) as { decision: string }).decision, "approved");
      };
      const before = Date.now();
      await activate();
      await drained("acme");
      // A later date is not the first approval: refused, and the answer shows the kept one.
      const later = await event("acme", record.imei, {
        event: "activated",
        activatedAt: "2999-01-01T00:00:00.000Z",
      });
      const body = (await later.json()) as { activatedAt: string; applied: boolean };
      assert.equal(body.applied, false);
      const at = Date.parse(body.activatedAt);
      assert.ok(at >= before - 1000 && at <= Date.now(), body.activatedAt);
      // A second approval queues nothing more.
      await activate();
      const rows = (await lab.carriers.acme.platformSync!.pending()).filter(
        (r) => r.imei === record.imei,
      );
      assert.deepEqual(rows, []);
      const log = await lab.store.part("platform").audit.list({ limit: 10_000 });
      const events = log.filter((e) => e.subject === record.imei && e.action === "custody-event");
      assert.deepEqual(
        events.map((e) => [
          (e.details as { event: string }).event,
          (e.details as { applied: boolean }).applied,
        ]),
        [
          ["activated", true],
          ["activated", false],
        ],
      );
    });

    test("another carrier's token: TOKEN_INVALID, the same bytes whether the device exists or not", async () => {
      const known = await manufacture(s, "acme");
      const unknownImei = "359991012345672";
      const texts: string[] = [];
      for (const imei of [known.record.imei, unknownImei]) {
        const res = await event(
          "acme",
          imei,
          { event: "blocked", version: 99 },
          s.carrierToken.globex,
        );
        assert.equal(res.status, 401);
        texts.push(await res.text());
      }
      assert.equal(texts[0], texts[1]);
      assert.equal(JSON.parse(texts[0]!).error.code, "TOKEN_INVALID");
      assert.deepEqual(await reasonsAtPlatform(known.device, "acme"), []);
      // Its own token, a device not in its custody: DEVICE_NOT_FOUND.
      const res = await event("acme", unknownImei, { event: "blocked", version: 1 });
      assert.equal(res.status, 404);
      assert.equal(
        ((await res.json()) as { error: { code: string } }).error.code,
        "DEVICE_NOT_FOUND",
      );
    });

    test("the platform's OpenAPI document has the events route", async () => {
      const doc = (await (await fetch(`${lab.platformBase}/openapi.json`)).json()) as {
        paths: Record<string, Record<string, { requestBody?: unknown }>>;
      };
      const op = doc.paths["/platform/custody/{carrier}/devices/{imei}/events"]?.post;
      assert.ok(op?.requestBody, "POST …/events is documented with its body");
      const batch = doc.paths["/platform/custody/{carrier}/events"]?.post;
      assert.ok(batch?.requestBody, "the batch route is documented with its body");
    });

    test("malformed events are refused and change nothing", async () => {
      const { device, record } = await manufacture(s, "acme");
      for (const json of [
        { event: "blocked" },
        { event: "blocked", version: 0 },
        { event: "blocked", version: 1.5 },
        { event: "blocked", version: 1, activatedAt: "2026-01-01T00:00:00Z" },
        { event: "activated", activatedAt: "yesterday" },
        { event: "activated", version: 3, activatedAt: "2026-01-01T00:00:00Z" },
        { event: "lost", version: 1 },
        { event: "blocked", version: 1, status: "active" },
      ]) {
        const res = await event("acme", record.imei, json);
        assert.equal(res.status, 400, JSON.stringify(json));
      }
      assert.deepEqual(await reasonsAtPlatform(device, "acme"), []);
    });

    test("a device the platform does not hold: the event is dropped and audited, not retried", async () => {
      const { record } = await manufacture(s, "acme", { deposit: false });
      assert.equal((await admin("acme", record.imei, "block")).status, 200);
      await drained("acme");
      const log = await lab.store.part("carrier:acme").audit.list({ limit: 10_000 });
      const e = log.find((x) => x.subject === record.imei && x.action === "platform-sync-dropped");
      assert.ok(e);
      assert.deepEqual(
        [(e.details as { event: string }).event, (e.details as { why: string }).why],
        ["blocked", "DEVICE_NOT_FOUND"],
      );
    });

    test("a batch of events: each answered in order as it would be alone", async () => {
      const a = await manufacture(s, "acme");
      const b = await manufacture(s, "acme");
      const unknownImei = "359991012345672";
      const res = await events("acme", {
        events: [
          { imei: a.record.imei, event: "blocked", version: 1 },
          { imei: b.record.imei, event: "activated", activatedAt: "2026-01-02T03:04:05.000Z" },
          { imei: unknownImei, event: "blocked", version: 1 },
          { imei: b.record.imei, event: "terminated" },
          // The same device twice: applied in the batch's order, the late one changes nothing.
          { imei: a.record.imei, event: "unblocked", version: 3 },
          { imei: a.record.imei, event: "blocked", version: 2 },
        ],
      });
      assert.equal(res.status, 200);
      const { results } = (await res.json()) as {
        results: Array<{
          imei: string;
          applied?: boolean;
          status?: string;
          error?: { code: string };
        }>;
      };
      assert.deepEqual(
        results.map((r) => [r.imei, r.error?.code ?? r.status, r.applied]),
        [
          [a.record.imei, "blocked", true],
          [b.record.imei, "active", true],
          [unknownImei, "DEVICE_NOT_FOUND", undefined],
          [b.record.imei, "INVALID_REQUEST", undefined],
          [a.record.imei, "active", true],
          [a.record.imei, "active", false],
        ],
      );
      assert.deepEqual(await reasonsAtPlatform(a.device, "acme"), []);
      assert.deepEqual(await reasonsAtPlatform(b.device, "acme"), []);
      // Another carrier's token: the one TOKEN_INVALID, nothing applied.
      const foreign = await events(
        "acme",
        { events: [{ imei: a.record.imei, event: "blocked", version: 9 }] },
        s.carrierToken.globex,
      );
      assert.equal(foreign.status, 401);
      assert.equal(
        ((await foreign.json()) as { error: { code: string } }).error.code,
        "TOKEN_INVALID",
      );
      assert.deepEqual(await reasonsAtPlatform(a.device, "acme"), []);
    });

    test("a malformed batch is refused as a whole and changes nothing", async () => {
      const { device, record } = await manufacture(s, "acme");
      const ok = { imei: record.imei, event: "blocked", version: 1 };
      for (const json of [
        {},
        { events: [] },
        { events: Array.from({ length: 257 }, () => ok) },
        { events: [ok, { event: "blocked", version: 1 }] },
        { events: [ok, { imei: "12345", event: "blocked", version: 1 }] },
        { events: [ok, { ...ok, status: "active" }] },
        { events: [ok], more: true },
      ]) {
        const res = await events("acme", json);
        assert.equal(res.status, 400, JSON.stringify(json).slice(0, 200));
      }
      assert.deepEqual(await reasonsAtPlatform(device, "acme"), []);
    });

    test("several devices changed while the platform was down: delivered together when it is back", async () => {
      const made = [await manufacture(s, "globex"), await manufacture(s, "globex")];
      const absent = await manufacture(s, "globex", { deposit: false });
      const sync = lab.carriers.globex.platformSync!;
      await lab.platformDown();
      try {
        for (const m of [...made, absent]) {
          assert.equal((await admin("globex", m.record.imei, "block")).status, 200);
        }
        const mine = new Set([...made, absent].map((m) => m.record.imei));
        await until("a failed delivery of all three", async () => {
          if ((sync.platformBackoff?.failures ?? 0) < 1) return false;
          return (await sync.pending()).filter((r) => mine.has(r.imei)).length === 3;
        });
      } finally {
        await lab.platformUp();
      }
      await drained("globex");
      for (const m of made)
        assert.deepEqual(await reasonsAtPlatform(m.device, "globex"), ["DEVICE_BLOCKED"]);
      const log = await lab.store.part("carrier:globex").audit.list({ limit: 10_000 });
      const mine = new Set([...made, absent].map((m) => m.record.imei));
      assert.equal(sync.platformBackoff, undefined, "the platform answered: its backoff is over");
      const dropped = log.filter(
        (e) => e.action === "platform-sync-dropped" && mine.has(e.subject ?? ""),
      );
      assert.deepEqual(
        dropped.map((e) => [e.subject, (e.details as { why: string }).why]),
        [[absent.record.imei, "DEVICE_NOT_FOUND"]],
      );
      assert.equal((await lab.store.verifyAudit("carrier:globex")).ok, true);
      assert.equal((await lab.store.verifyAudit("platform")).ok, true);
    });

    test("a row the batch route refuses: the batch goes one by one, the bad row alone is dropped", async () => {
      const bad = await manufacture(s, "acme");
      const good = await manufacture(s, "acme");
      // A row no carrier code writes (version 0): the batch schema refuses the whole batch.
      await lab.store
        .part("carrier:acme")
        .kv.put("platform-sync/outbox", `${bad.record.imei}/status`, {
          imei: bad.record.imei,
          event: "blocked",
          version: 0,
          attempts: 0,
          dueAt: Date.now(),
        });
      assert.equal((await admin("acme", good.record.imei, "block")).status, 200);
      await drained("acme");
      assert.deepEqual(await reasonsAtPlatform(good.device, "acme"), ["DEVICE_BLOCKED"]);
      assert.deepEqual(await reasonsAtPlatform(bad.device, "acme"), []);
      const log = await lab.store.part("carrier:acme").audit.list({ limit: 10_000 });
      const e = log.find(
        (x) => x.subject === bad.record.imei && x.action === "platform-sync-dropped",
      );
      assert.equal((e?.details as { why?: string } | undefined)?.why, "INVALID_REQUEST");
    });
  });
