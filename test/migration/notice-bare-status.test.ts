// A bare 400 (no dmguard error body: an HTML page, as a proxy in front of acme answers) is not
// acme refusing globex's port-out notice: the notice stays in globex's queue and is sent again,
// not dropped (src/carrier/migration/finish.ts drops only on a final status with acme's own error
// code). Once the stand-in passes the notice on to acme's real server, acme takes it and the job
// leaves the queue as delivered. The stand-in is a real node:http server on loopback.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { migrateDevice } from "../../src/device/index.js";
import {
  activeDevice,
  lookup,
  type MigrationStack,
  makeMigrationStack,
  migrationDelivered,
} from "./helpers.js";

const PROXY_PAGE = "<html><body><h1>400 Bad Request</h1><p>nginx</p></body></html>";

/** In front of acme: a bare 400 while `passOn` is false, then acme's real server's answer. */
interface StandIn {
  base: string;
  passOn: boolean;
  /** Each notice received, with the status answered. */
  notices: Array<{ status: number }>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function standIn(s: MigrationStack): Promise<StandIn> {
  const state: StandIn = { base: "", passOn: false, notices: [], close: async () => {} };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const notice = req.method === "POST" && req.url === "/carriers/acme/migration/port-outs";
      if (!state.passOn) {
        if (notice) state.notices.push({ status: 400 });
        res.writeHead(400, { "content-type": "text/html" }).end(PROXY_PAGE);
        return;
      }
      const r = await fetch(`${s.base}${req.url}`, {
        method: req.method ?? "GET",
        headers: { "content-type": req.headers["content-type"] ?? "application/json" },
        ...(body.length > 0 ? { body } : {}),
      });
      if (notice) state.notices.push({ status: r.status });
      res
        .writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "text/plain" })
        .end(Buffer.from(await r.arrayBuffer()));
    })().catch((err: unknown) => {
      res.writeHead(502).end(String(err));
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((ok, fail) => {
      server.closeAllConnections();
      server.close((err) => (err ? fail(err) : ok()));
    });
  return state;
}

async function until(what: string, done: () => boolean, withinMs = 20_000): Promise<void> {
  const end = Date.now() + withinMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`not within ${withinMs} ms: ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe("a port-out notice answered with a bare 400 (no dmguard body)", () => {
  let s: MigrationStack;
  let proxy: StandIn;
  before(async () => {
    s = await makeMigrationStack({ recordWire: true });
    proxy = await standIn(s);
    s.acmeAt.url = proxy.base;
  });
  after(async () => {
    await proxy.close();
    await s.close();
  });

  test("kept and sent again, not dropped; delivered once acme itself answers", async () => {
    const made = await activeDevice(s, "acme");
    const imei = made.record.imei;
    const r = await migrateDevice(made.device, { to: "carrier:globex" });
    assert.equal(r.verdict, "approved");
    const globex = s.store.part("carrier:globex");
    const notice = `${imei}/migration-notice`;
    const audited = async (action: string) =>
      (await globex.audit.list({ limit: 10_000 })).filter(
        (e) => e.subject === imei && e.action === action,
      );
    const migration = async () =>
      (await globex.kv.get("migrations", imei))?.value as {
        state: string;
        sourceNotified: boolean;
      };

    // A dropped notice is never sent again: a second one proves the first was kept.
    await until("the notice sent twice", () => proxy.notices.length >= 2);
    const job = (await globex.kv.get("migration/outbox", notice))?.value as
      | { attempts: number }
      | undefined;
    assert.ok(job, "the notice is still queued");
    assert.ok(job.attempts >= 1, "its failures are counted, for the backoff");
    assert.deepEqual(await audited("migration-finish-dropped"), [], "no drop audited");
    assert.ok(!s.logs.some((l) => l.includes("migration-finish: dropped")), "no drop logged");
    assert.equal((await migration()).sourceNotified, false);
    assert.equal((await lookup(s, "acme", imei)).body.portedOutTo, null, "acme was not told");

    proxy.passOn = true;
    await migrationDelivered(s);
    assert.equal(proxy.notices.at(-1)?.status, 200, "acme's own server took it");
    assert.equal(await globex.kv.get("migration/outbox", notice), null, "left the queue");
    const row = await migration();
    assert.equal(row.state, "complete");
    assert.equal(row.sourceNotified, true);
    assert.equal((await audited("migration-source-notified")).length, 1);
    assert.deepEqual(await audited("migration-finish-dropped"), []);
    assert.equal((await lookup(s, "acme", imei)).body.portedOutTo, "globex", "acme was told");
    await made.device.close();
  });
});
