// The outbox delivery loop's scheduling (src/carrier/platform-sync/delivery-loop.ts), seen from
// outside: a real store (each backend) whose outbox listings and row reads are counted, and a
// real HTTP server on port 0 in the platform's place that records when each batch arrives.
// While the platform fails, the loop waits for it as a whole (no listing, no per-row writes, a
// kick does not override it) and delivers everything queued at the first pass it answers; a
// row the platform asks to retry backs off alone without the loop spinning or re-reading it;
// a kick, a kick during a pass, and rows another store handle wrote are all delivered without
// waiting for a late poll; stop() ends a sleeping loop at once; a restart forgets the backoff.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { PlatformSync } from "../../src/carrier/platform-sync/deliver.js";
import type { PlatformSyncOptions } from "../../src/carrier/platform-sync/options.js";
import { OUTBOX_NS, rowOf } from "../../src/carrier/platform-sync/outbox.js";
import type { PartStore, Store } from "../../src/store/index.js";
import { BACKENDS, type Target } from "../store/backends.js";

/** The platform's batch route, answering as told; every batch is recorded with its time. */
interface PlatformStub {
  url: string;
  batches: Array<{ at: number; imeis: string[]; answered: boolean }>;
  /** `down`: 503 to everything; `up`: each event applied, but those of `refuse`. */
  mode: "down" | "up";
  /** Answered CONFLICT (retry this row later) while up. */
  refuse: Set<string>;
  /** While set, answers wait for it (a request in flight, held). */
  hold: Promise<void> | null;
  close(): Promise<void>;
}

async function platformStub(): Promise<PlatformStub> {
  const stub = {
    batches: [],
    mode: "down",
    refuse: new Set<string>(),
    hold: null,
  } as unknown as PlatformStub;
  const read = async (req: IncomingMessage) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    return JSON.parse(text) as { events: Array<{ imei: string }> };
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await read(req);
      const imeis = body.events.map((e) => e.imei);
      stub.batches.push({ at: Date.now(), imeis, answered: stub.mode === "up" });
      if (stub.hold) await stub.hold;
      res.setHeader("content-type", "application/json");
      if (stub.mode === "down") {
        res.statusCode = 503;
        res.end(JSON.stringify({ error: { code: "UNAVAILABLE", message: "down" } }));
        return;
      }
      const results = imeis.map((imei) =>
        stub.refuse.has(imei)
          ? { imei, error: { code: "CONFLICT", message: "changed meanwhile" } }
          : { imei, applied: true },
      );
      res.end(JSON.stringify({ results }));
    })();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/platform`;
  stub.close = () => new Promise((ok) => server.close(() => ok()));
  return stub;
}

/** What the loop did to the outbox: each listing (values or versions) and each row it read. */
interface OutboxLog {
  lists: number[];
  reads: string[];
}

/** The carrier's part, the outbox's listings and reads recorded (the store itself is real). */
function counting(part: PartStore, log: OutboxLog): PartStore {
  const bind = <T extends object>(target: T, prop: string | symbol) => {
    const v = Reflect.get(target, prop);
    return typeof v === "function" ? v.bind(target) : v;
  };
  const kv = new Proxy(part.kv, {
    get(target, prop) {
      if (prop === "list" || prop === "versions") {
        return async (ns: string, page?: object) => {
          if (ns === OUTBOX_NS) log.lists.push(Date.now());
          const rows = await target[prop](ns, page);
          if (ns === OUTBOX_NS && prop === "list") for (const e of rows) log.reads.push(e.key);
          return rows;
        };
      }
      if (prop === "get") {
        return async (ns: string, key: string) => {
          const e = await target.get(ns, key);
          if (ns === OUTBOX_NS && e) log.reads.push(key);
          return e;
        };
      }
      return bind(target, prop);
    },
  });
  return new Proxy(part, {
    get: (target, prop) => (prop === "kv" ? kv : bind(target, prop)),
  });
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Waits (up to 10 s) for `cond`; a wait, not a timing assertion. */
async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

let imeiSeq = 0;
const nextImei = () => `35999101${String(++imeiSeq).padStart(7, "0")}`;

for (const backend of BACKENDS)
  describe(`outbox delivery loop scheduling (${backend.name})`, () => {
    let db: Target;
    let store: Store;
    let stub: PlatformStub;
    let carrierSeq = 0;
    before(async () => {
      db = await backend.setup();
      store = await db.open();
      stub = await platformStub();
    });
    after(async () => {
      await stub.close();
      await store.close();
      await db.cleanup();
    });

    /** A sync of its own part (so tests share nothing), its outbox listings and reads counted. */
    const makeSync = (timing: Omit<PlatformSyncOptions, "url" | "token">, carrier?: string) => {
      const id = carrier ?? `loop${++carrierSeq}`;
      const raw = store.part(`carrier:${id}`);
      const log: OutboxLog = { lists: [], reads: [] };
      const sync = new PlatformSync(id, counting(raw, log), {
        url: stub.url,
        token: "t",
        ...timing,
      });
      const queue = (imei: string) =>
        raw.transaction((tx) => sync.queueStatus(tx, imei, "blocked", Date.now()));
      /** The outbox as it stands, read past the counting. */
      const rows = async () => (await raw.kv.list(OUTBOX_NS)).map((e) => rowOf(e));
      const row = async (imei: string) => (await rows()).find((r) => r.imei === imei);
      return { id, sync, raw, log, queue, rows, row };
    };
    const batchesOf = (imei: string) => stub.batches.filter((b) => b.imeis.includes(imei));

    test("the platform down: no listing while it backs off, each retry when its backoff ends", async () => {
      stub.mode = "down";
      // Backoffs of 200–400 ms against a poll of 60 s: only the backoff's end may wake the loop.
      const { sync, log, queue, row } = makeSync({
        retryBaseMs: 400,
        retryMaxMs: 400,
        pollMs: 60_000,
      });
      const imei = nextImei();
      await queue(imei);
      sync.start();
      try {
        await until("five attempts", () => batchesOf(imei).length >= 5);
      } finally {
        await sync.stop();
      }
      const at = batchesOf(imei).map((b) => b.at);
      for (let i = 1; i < at.length; i++) {
        const gap = at[i]! - at[i - 1]!;
        // At least the shortest backoff (less a timer's slack), well before any poll.
        assert.ok(gap >= 190 && gap < 2_000, `retry ${i} came ${gap} ms after the previous`);
      }
      // One listing per pass and one pass per attempt: none while the platform backed off.
      const { lists } = log;
      assert.equal(lists.length, at.length, `listings at ${lists.map((t) => t - lists[0]!)}`);
      for (let i = 0; i < at.length; i++) {
        assert.ok(at[i]! >= lists[i]!, "each attempt follows its pass's listing");
        if (i > 0) assert.ok(lists[i]! > at[i - 1]!, "no second listing between two attempts");
      }
      assert.equal((await row(imei))?.attempts, 0, "the platform judged nothing: row untouched");
      // Stopped: nothing more, though the platform's backoff soon ends.
      const listed = lists.length;
      await sleep(600);
      assert.equal(lists.length, listed);
      assert.equal(batchesOf(imei).length, at.length);
    });

    test("after an outage all that was queued goes in the first answered pass, not row by row", async () => {
      stub.mode = "down";
      // An outage of ~2.5 s against backoffs capped at 800 ms: old enough for every row to
      // have failed several times, with rows queued all along.
      const { sync, queue, rows } = makeSync({ retryBaseMs: 100, retryMaxMs: 800, pollMs: 50 });
      const queued: string[] = [];
      sync.start();
      try {
        for (let i = 0; i < 5; i++) {
          const imei = nextImei();
          queued.push(imei);
          await queue(imei);
          sync.kick();
          await sleep(500);
        }
        const failed = stub.batches.filter((b) => !b.answered && queued.includes(b.imeis[0]!));
        assert.ok(failed.length >= 4, `${failed.length} failed requests`);
        assert.deepEqual(
          (await rows()).map((r) => [r.attempts, r.lastError]),
          queued.map(() => [0, undefined]),
          "no row was backed off on its own: the platform judged none",
        );
        stub.mode = "up";
        const back = Date.now();
        await until("all delivered", async () => (await rows()).length === 0);
        const answered = stub.batches.filter((b) => b.answered && queued.includes(b.imeis[0]!));
        assert.deepEqual(answered[0]?.imeis, queued, "one request, every queued row");
        assert.equal(answered.length, 1);
        // Within one platform backoff (≤ 800 ms), plus slack for the request.
        assert.ok(answered[0]!.at - back < 1_300, `${answered[0]!.at - back} ms after`);
        assert.equal(sync.platformBackoff, undefined, "answered: the backoff is over");
      } finally {
        await sync.stop();
      }
    });

    test("while the platform backs off: no listing, and a kick sends nothing before it ends", async () => {
      stub.mode = "down";
      // A backoff of 0.5–1 s against a poll of 20 ms.
      const { sync, log, queue, rows } = makeSync({
        retryBaseMs: 1_000,
        retryMaxMs: 1_000,
        pollMs: 20,
      });
      const first = nextImei();
      await queue(first);
      sync.start();
      try {
        await until("the first attempt", () => batchesOf(first).length === 1);
        await sleep(50);
        // At least half the 1 s base from the failure (the fallback: no such backoff known).
        const retryAt = sync.platformBackoff?.retryAt ?? batchesOf(first)[0]!.at + 500;
        const second = nextImei();
        await queue(second);
        sync.kick();
        await sleep(Math.min(300, retryAt - Date.now() - 100));
        assert.ok(Date.now() < retryAt, "still backing off");
        assert.equal(log.lists.length, 1, "the outbox is not listed while the platform backs off");
        assert.equal(log.reads.length, 1, "nor read");
        assert.equal(batchesOf(second).length, 0, "the kick sent nothing");

        stub.mode = "up";
        await until("both delivered", async () => (await rows()).length === 0);
        const sent = batchesOf(second)[0]!;
        assert.deepEqual(sent.imeis, [first, second]);
        // Timers may fire a few ms early by the wall clock; the loop sleeps the rest.
        assert.ok(sent.at >= retryAt, `sent ${retryAt - sent.at} ms before the backoff ended`);
      } finally {
        await sync.stop();
      }
    });

    test("one row refused for now: it alone backs off, is not re-read at each poll, no spin", async () => {
      stub.mode = "up";
      const { sync, log, queue, row } = makeSync({ retryBaseMs: 300, retryMaxMs: 300, pollMs: 30 });
      const [refused, ok1, ok2] = [nextImei(), nextImei(), nextImei()];
      stub.refuse.add(refused);
      try {
        for (const imei of [refused, ok1, ok2]) await queue(imei);
        sync.start();
        // A pass removes what was delivered and backs off what was refused in two transactions,
        // in that order: wait for the second too.
        await until(
          "the others delivered, the refused row backed off",
          async () => (await row(ok2)) === undefined && (await row(refused))?.attempts !== 0,
        );
        assert.equal(await row(ok1), undefined);
        assert.equal((await row(refused))?.attempts, 1);
        // Watch ~1.2 s of polls: the refused row is read and sent only as its backoff
        // (150–300 ms) ends, though the outbox is listed every 30 ms.
        const from = Date.now();
        const [lists, reads, batches] = [log.lists.length, log.reads.length, stub.batches.length];
        await sleep(1_200);
        const sent = stub.batches.slice(batches);
        const readKeys = log.reads.slice(reads);
        assert.ok(log.lists.length - lists >= 8, "polls list the outbox");
        assert.ok(sent.length >= 3 && sent.length <= 9, `${sent.length} requests in 1.2 s`);
        assert.ok(
          sent.every((b) => b.imeis.join() === refused),
          "only the refused row is sent",
        );
        for (let i = 1; i < sent.length; i++) {
          assert.ok(sent[i]!.at - sent[i - 1]!.at >= 140, "each retry after its backoff");
        }
        assert.ok(readKeys.length <= sent.length + 1, `read ${readKeys.length} times`);
        assert.equal(sync.platformBackoff, undefined, "the platform answered: no backoff of it");
        assert.ok(Date.now() - from < 5_000);
      } finally {
        stub.refuse.delete(refused);
        await sync.stop();
      }
    });

    test("a kick while a row backs off delivers the new row at once; stop() is prompt", async () => {
      stub.mode = "up";
      const { sync, log, queue, rows, row } = makeSync({
        retryBaseMs: 60_000,
        retryMaxMs: 60_000,
        pollMs: 60_000,
      });
      const waiting = nextImei();
      stub.refuse.add(waiting);
      await queue(waiting);
      sync.start();
      try {
        await until("the first attempt to fail", async () => (await row(waiting))?.attempts === 1);
        const listed = log.lists.length;
        await sleep(300);
        assert.equal(log.lists.length, listed, "asleep: the outbox is not listed");

        const fresh = nextImei();
        await queue(fresh);
        const kicked = Date.now();
        sync.kick();
        await until("the kicked row delivered", async () => (await row(fresh)) === undefined);
        assert.ok(Date.now() - kicked < 2_000, "delivered at once, not at the next poll");
        assert.deepEqual(batchesOf(fresh).at(-1)?.imeis, [fresh], "the backing-off row waits");
        assert.deepEqual(
          (await rows()).map((r) => r.imei),
          [waiting],
        );
      } finally {
        stub.refuse.delete(waiting);
        const stopping = Date.now();
        await sync.stop();
        assert.ok(Date.now() - stopping < 500, "a sleeping loop stops at once");
      }
    });

    test("a kick during a pass: another pass right after it", async () => {
      stub.mode = "up";
      const { sync, queue, rows } = makeSync({ pollMs: 60_000 });
      sync.start();
      try {
        let release: () => void = () => undefined;
        stub.hold = new Promise<void>((ok) => {
          release = ok;
        });
        const first = nextImei();
        await queue(first);
        sync.kick();
        await until("the first batch in flight", () => batchesOf(first).length === 1);
        // Committed and kicked while the pass that sends `first` waits for its answer.
        const second = nextImei();
        await queue(second);
        sync.kick();
        stub.hold = null;
        const released = Date.now();
        release();
        await until("both delivered", async () => (await rows()).length === 0);
        assert.ok(Date.now() - released < 2_000, "the kick's pass ran at once");
        assert.deepEqual(batchesOf(second).at(-1)?.imeis, [second]);
      } finally {
        stub.hold = null;
        await sync.stop();
      }
    });

    test("rows another store handle wrote (no kick) are found within the poll interval", async () => {
      stub.mode = "up";
      const { id, sync, log, queue, row } = makeSync({
        retryBaseMs: 60_000,
        retryMaxMs: 60_000,
        pollMs: 200,
      });
      const waiting = nextImei();
      stub.refuse.add(waiting);
      await queue(waiting);
      const other = await db.open();
      sync.start();
      try {
        await until("the first attempt to fail", async () => (await row(waiting))?.attempts === 1);
        // Polls list the outbox but do not read the row known to back off for 30–60 s.
        const [lists, reads] = [log.lists.length, log.reads.length];
        await sleep(700);
        assert.ok(log.lists.length - lists >= 2, "polled");
        assert.deepEqual(log.reads.slice(reads), [], "the backing-off row is not read again");

        // A new row, written behind the sync's back as the admin CLI or another server would.
        const theirs = other.part(`carrier:${id}`);
        const fresh = nextImei();
        await theirs.kv.put(OUTBOX_NS, `${fresh}/status`, {
          imei: fresh,
          event: "blocked",
          version: 1,
          attempts: 0,
          dueAt: Date.now(),
        });
        let written = Date.now();
        await until("the other handle's row delivered", () => batchesOf(fresh).length > 0);
        assert.ok(batchesOf(fresh)[0]!.at - written < 1_000, "found at the next poll");

        // The backing-off row replaced by a newer event there: its new version is noticed.
        stub.refuse.delete(waiting);
        await theirs.transaction((tx) => sync.queueStatus(tx, waiting, "unblocked", Date.now()));
        written = Date.now();
        await until("the replaced row delivered", async () => (await row(waiting)) === undefined);
        assert.ok(batchesOf(waiting).at(-1)!.at - written < 1_000, "found at the next poll");
      } finally {
        stub.refuse.delete(waiting);
        await sync.stop();
        await other.close();
      }
    });

    test("a restart forgets the platform's backoff: queued rows go at once", async () => {
      stub.mode = "down";
      const timing = { retryBaseMs: 60_000, retryMaxMs: 60_000, pollMs: 60_000 };
      const first = makeSync(timing);
      const imei = nextImei();
      await first.queue(imei);
      first.sync.start();
      await until("a failed attempt", () => batchesOf(imei).length === 1);
      await sleep(50);
      await first.sync.stop();
      stub.mode = "up";
      // The same carrier's outbox, a new process's sync.
      const again = makeSync(timing, first.id);
      const started = Date.now();
      again.sync.start();
      try {
        await until("delivered", async () => (await again.row(imei)) === undefined);
        assert.ok(Date.now() - started < 2_000, "at once, not after the backoff");
      } finally {
        await again.sync.stop();
      }
    });
  });

test("a sleeping loop does not keep an idle process alive", async () => {
  const dir = await mkdtemp(join(tmpdir(), "dmguard-idle-sync-"));
  try {
    const script = fileURLToPath(new URL("./idle-sync-process.ts", import.meta.url));
    const child = spawn(
      process.execPath,
      ["--import", "tsx", script, `sqlite:${join(dir, "store.sqlite")}`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((ok) =>
      child.on("exit", (c, s) => ok([c, s])),
    );
    clearTimeout(killer);
    assert.deepEqual([code, signal], [0, null], out);
    assert.match(out, /asleep/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
