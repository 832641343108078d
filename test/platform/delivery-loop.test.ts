// The outbox delivery loop's scheduling (src/carrier/platform-sync/delivery-loop.ts), seen from
// outside: a real store (each backend) whose kv.list calls are counted, and a real HTTP server
// on port 0 in the platform's place that records when each batch arrives. While every row backs
// off the loop does not list the outbox again before one falls due; a retry comes when its
// backoff ends, not at the next poll; a kick, a kick during a pass, and a row another process
// wrote are all delivered without waiting for a late poll; stop() ends a sleeping loop at once.
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
import { OUTBOX_NS } from "../../src/carrier/platform-sync/outbox.js";
import type { PartStore, Store } from "../../src/store/index.js";
import { BACKENDS, type Target } from "../store/backends.js";

/** The platform's batch route, answering as told; every batch is recorded with its time. */
interface PlatformStub {
  url: string;
  batches: Array<{ at: number; imeis: string[] }>;
  /** `down`: 503 to everything; `up`: each event applied. */
  mode: "down" | "up";
  /** While set, answers wait for it (a request in flight, held). */
  hold: Promise<void> | null;
  close(): Promise<void>;
}

async function platformStub(): Promise<PlatformStub> {
  const stub = {
    batches: [],
    mode: "down",
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
      stub.batches.push({ at: Date.now(), imeis: body.events.map((e) => e.imei) });
      if (stub.hold) await stub.hold;
      res.setHeader("content-type", "application/json");
      if (stub.mode === "down") {
        res.statusCode = 503;
        res.end(JSON.stringify({ error: { code: "UNAVAILABLE", message: "down" } }));
        return;
      }
      res.end(JSON.stringify({ results: body.events.map(() => ({ applied: true })) }));
    })();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  stub.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/platform`;
  stub.close = () => new Promise((ok) => server.close(() => ok()));
  return stub;
}

/** The carrier's part, every kv.list of the outbox recorded with its time. */
function countingLists(part: PartStore, lists: number[]): PartStore {
  const bind = <T extends object>(target: T, prop: string | symbol) => {
    const v = Reflect.get(target, prop);
    return typeof v === "function" ? v.bind(target) : v;
  };
  const kv = new Proxy(part.kv, {
    get(target, prop) {
      if (prop !== "list") return bind(target, prop);
      return (ns: string, page?: object) => {
        if (ns === OUTBOX_NS) lists.push(Date.now());
        return target.list(ns, page);
      };
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

    /** A sync of its own part (so tests share nothing), its outbox listings counted. */
    const makeSync = (timing: Omit<PlatformSyncOptions, "url" | "token">) => {
      const carrier = `loop${++carrierSeq}`;
      const raw = store.part(`carrier:${carrier}`);
      const lists: number[] = [];
      const part = countingLists(raw, lists);
      const sync = new PlatformSync(carrier, part, { url: stub.url, token: "t", ...timing });
      const queue = (imei: string) =>
        raw.transaction((tx) => sync.queueStatus(tx, imei, "blocked", Date.now()));
      return { sync, raw, lists, queue };
    };
    const batchesOf = (imei: string) => stub.batches.filter((b) => b.imeis.includes(imei));

    test("every row backing off: no listing until one is due, each retry when its backoff ends", async () => {
      stub.mode = "down";
      // Backoffs of 200–400 ms against a poll of 60 s: only a due row may wake the loop.
      const { sync, lists, queue } = makeSync({
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
      // One listing per pass and one pass per attempt: none while the row was backing off.
      assert.equal(lists.length, at.length, `listings at ${lists.map((t) => t - lists[0]!)}`);
      for (let i = 0; i < at.length; i++) {
        assert.ok(at[i]! >= lists[i]!, "each attempt follows its pass's listing");
        if (i > 0) assert.ok(lists[i]! > at[i - 1]!, "no second listing between two attempts");
      }
      // Stopped: nothing more, though the row is soon due again.
      const listed = lists.length;
      await sleep(600);
      assert.equal(lists.length, listed);
      assert.equal(batchesOf(imei).length, at.length);
    });

    test("a kick while every row backs off delivers the new row at once; stop() is prompt", async () => {
      stub.mode = "down";
      const { sync, lists, queue } = makeSync({
        retryBaseMs: 60_000,
        retryMaxMs: 60_000,
        pollMs: 60_000,
      });
      const waiting = nextImei();
      await queue(waiting);
      sync.start();
      try {
        await until("the first attempt to fail", async () =>
          (await sync.pending()).some((r) => r.attempts === 1),
        );
        const listed = lists.length;
        await sleep(300);
        assert.equal(lists.length, listed, "asleep: the outbox is not listed");

        stub.mode = "up";
        const fresh = nextImei();
        await queue(fresh);
        const kicked = Date.now();
        sync.kick();
        await until("the kicked row delivered", async () =>
          (await sync.pending()).every((r) => r.imei !== fresh),
        );
        assert.ok(Date.now() - kicked < 2_000, "delivered at once, not at the next poll");
        assert.deepEqual(batchesOf(fresh).at(-1)?.imeis, [fresh], "the backing-off row waits");
        assert.deepEqual(
          (await sync.pending()).map((r) => r.imei),
          [waiting],
        );
      } finally {
        const stopping = Date.now();
        await sync.stop();
        assert.ok(Date.now() - stopping < 500, "a sleeping loop stops at once");
      }
    });

    test("a kick during a pass: another pass right after it", async () => {
      stub.mode = "up";
      const { sync, queue } = makeSync({ pollMs: 60_000 });
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
        await until("both delivered", async () => (await sync.pending()).length === 0);
        assert.ok(Date.now() - released < 2_000, "the kick's pass ran at once");
        assert.deepEqual(batchesOf(second).at(-1)?.imeis, [second]);
      } finally {
        stub.hold = null;
        await sync.stop();
      }
    });

    test("a row another process wrote (no kick) is found within the poll interval", async () => {
      stub.mode = "down";
      const { sync, raw, queue } = makeSync({
        retryBaseMs: 60_000,
        retryMaxMs: 60_000,
        pollMs: 300,
      });
      await queue(nextImei());
      sync.start();
      try {
        await until("the first attempt to fail", async () =>
          (await sync.pending()).some((r) => r.attempts === 1),
        );
        stub.mode = "up";
        // Written behind the sync's back, as another server on the same store would.
        const other = nextImei();
        await raw.kv.put(OUTBOX_NS, `${other}/status`, {
          imei: other,
          event: "blocked",
          version: 1,
          attempts: 0,
          dueAt: Date.now(),
        });
        const written = Date.now();
        await until("the other process's row delivered", () => batchesOf(other).length > 0);
        assert.ok(batchesOf(other)[0]!.at - written < 1_500, "found at the next poll");
      } finally {
        await sync.stop();
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
