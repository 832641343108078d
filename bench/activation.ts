/**
 * Issue 4, "Speed and scale": full activations (nonce, evidence, signed verdict checked by the
 * phone, OMA DM session that provisions the profile), all over real HTTP, against `up` on SQLite
 * running as its own process (bench/activation/up-child.mjs: up's compose function from dist/,
 * so `npm run build` first), at 64 concurrent phones; a bare node:http hello-world measured
 * with the same client and concurrency for scale; `up`'s resident memory through a
 * 10,000-device fleet and after its nonces expire; then the same activations on a second
 * stack, alike but for 1,000,000 more devices in its inventory (one CSV through the admin API),
 * in runs taken in turn with the first stack's, so that the machine's drift in speed falls on
 * both (one run before the import and one after differed by up to a fifth from drift alone).
 * It also prints the floor under CPU per activation on this machine (the crypto both sides
 * cannot skip, bench/activation/floor.ts, plus the bare HTTP requests an activation makes at the
 * hello-world's CPU per request) and the activations/s that floor alone would leave room for,
 * beside the activations/s the measured CPU of both sides leaves room for on this machine's cores.
 *
 * The phones are lean (bench/activation/lean-device.ts): real attestation certificates from the
 * stack's OEM CA, real slot keys from the carrier's keystore, the device's evidence and verdict
 * code, a real DM session, but no DEVDIR files. They are made on worker threads
 * (bench/activation/factory.ts), registered and deposited in the carrier's custody at the
 * platform (so the carrier's sync of each first activation is taken) before anything is timed. Every activation must
 * end approved with the profile provisioned, or the bench fails. The load generator's HTTP
 * client (bench/activation/http-client.ts) also drives the hello-world.
 *
 * Knobs (environment): BENCH_DEVICES (phones, default 10,000), BENCH_SECONDS (per timed run,
 * default 10), BENCH_CONCURRENCY (default 64), BENCH_INVENTORY_1M=0 (skip the 1M part),
 * BENCH_CPU_PROF=DIR (CPU profiles of `up`'s main thread and of the load generator during the timed runs),
 * BENCH_UP_CHILD=FILE (another up-child.mjs, e.g. in a checkout of an older commit, to compare
 * builds), BENCH_VERBOSE=1 (`up`'s stderr, and its heap figures before and after the fleet),
 * BENCH_KEEP=1 (keep the stack folder), BENCH_FACTORY_LINES (worker threads making phones,
 * default one per core). `npm run bench -- activation` runs this suite alone.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { StackClient } from "../src/cli/stack/client.js";
import { readCredentials } from "../src/cli/stack/files.js";
import { pinKey } from "../src/device/tsz/verdict.js";
import { findModel, generateImei, luhnCheckDigit } from "../src/identity/index.js";
import { Factory } from "./activation/factory.js";
import { cryptoFloor } from "./activation/floor.js";
import { BenchHttp } from "./activation/http-client.js";
import { activateLean } from "./activation/lean-device.js";
import type { LeanDevice } from "./activation/lean-factory.js";
import { rssParts, type ServerProcess, startHello, startUp } from "./activation/procs.js";
import type { Figure } from "./figure.js";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const INVENTORY_1M = process.env.BENCH_INVENTORY_1M !== "0";
const FACTORY_LINES = Number(process.env.BENCH_FACTORY_LINES ?? availableParallelism());
const NONCE_TTL_MS = 5_000;
/** The 1M comparison: runs of each stack taken in turn, and their length. */
const ROUNDS_1M = 4;
const SECONDS_1M = Math.max(2, Math.round(SECONDS / 2));
const CARRIER = "acme";
const MODEL = "dmg-phone-1";

interface LoadResult {
  count: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/**
 * `concurrency` loops calling `op` until `seconds` have passed (or `total` calls were made);
 * every call must succeed.
 */
async function load(
  concurrency: number,
  op: (i: number) => Promise<void>,
  limit: { seconds?: number; total?: number },
  onTick?: () => void,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const deadline = limit.seconds === undefined ? Infinity : t0 + limit.seconds * 1000;
  const total = limit.total ?? Infinity;
  const tick = onTick ? setInterval(onTick, 200) : undefined;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total && performance.now() < deadline) {
          const i = next++;
          const s = performance.now();
          await op(i);
          latencies.push(performance.now() - s);
        }
      }),
    );
  } finally {
    if (tick) clearInterval(tick);
  }
  const seconds = (performance.now() - t0) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  return {
    count: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
  };
}

/** Makes and registers `n` phones (slot keys and certificates as at the factory). */
async function provision(
  factory: Factory,
  stack: StackClient,
  token: string,
  n: number,
): Promise<LeanDevice[]> {
  const admin = stack.carrier(CARRIER);
  const verdictKeys = await stack.verdictKeys();
  // As `device manufacture` does: deposited in the carrier's custody (up runs the platform).
  const platform = stack.platform();
  const custodyToken = stack.platformToken(`carrier:${CARRIER}`);
  if (!platform || !custodyToken) throw new Error("the stack runs no platform for the custody");
  if (!findModel(MODEL)) throw new Error(`no model ${MODEL}`);
  const imeis = new Set<string>();
  while (imeis.size < n) imeis.add(generateImei(MODEL));
  const devices = await factory.make(
    {
      stackDir: stack.dir,
      carrier: CARRIER,
      carrierUrl: admin.url,
      token,
      model: MODEL,
      // Every phone pins the same keys: pinned once, and the factory attaches these same objects
      // to each phone it makes, so that the TSZ's verdict code imports each key once for the fleet.
      pinned: await Promise.all(verdictKeys.map((k) => pinKey(k.carrier, k.jwk))),
      // Many at once: the keystore writes the slot keys made meanwhile in one sealed commit.
      lineConcurrency: 16,
      custody: {
        url: platform.url,
        token: custodyToken,
        transportKey: await platform.transportKey(),
      },
    },
    [...imeis],
  );
  for (let i = 0; i < n; i += 1000) {
    await admin.register(
      devices.slice(i, i + 1000).map((d) => ({
        imei: d.state.imei,
        meid: null,
        esn: null,
        model: MODEL,
        kid: d.kid,
        attestationKey: d.certificatePem,
        contractEnd: null,
        userGroup: null,
        enterprise: null,
      })),
    );
  }
  return devices;
}

/** One million more inventory rows, as a carrier's CSV through the admin API, in one import. */
async function import1M(http: BenchHttp, carrierUrl: string, token: string): Promise<number> {
  const lines = ["imei,model,kid"];
  // TAC 99999999 is no model's, so none of these IMEIs is a bench phone's.
  for (let i = 0; i < 1_000_000; i++) {
    const body = `99999999${String(i).padStart(6, "0")}`;
    lines.push(`${body}${luhnCheckDigit(body)},${MODEL},acme-bulk`);
  }
  const t0 = performance.now();
  const r = await http.post(`${carrierUrl}/inventory?mode=insert`, `${lines.join("\n")}\n`, {
    "content-type": "text/csv",
    authorization: `Bearer ${token}`,
  });
  if (r.status !== 200)
    throw new Error(`1M import answered ${r.status}: ${r.body.toString().slice(0, 300)}`);
  return (performance.now() - t0) / 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Timed extends LoadResult {
  /** CPU time of `up` (all threads) and of this process per activation, in ms. */
  upCpuMs: number;
  benchCpuMs: number;
}

let benchProfiles = 0;

/**
 * A timed run of activations, with the CPU both sides spent (and, with BENCH_CPU_PROF, both
 * sides' profiles: up's from up-child, this process's as bench-<n>.cpuprofile).
 */
async function timedRun(
  up: ServerProcess,
  activate: (i: number) => Promise<void>,
  seconds = SECONDS,
): Promise<Timed> {
  const profDir = process.env.BENCH_CPU_PROF;
  let session: Session | undefined;
  if (profDir !== undefined) {
    // Both processes write their profiles here; a folder named but not yet made is made.
    await mkdir(profDir, { recursive: true });
    up.signal("SIGUSR2");
    session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
  }
  const upCpu = up.cpuMs();
  const benchCpu = process.cpuUsage();
  const r = await load(CONCURRENCY, activate, { seconds });
  const upMs = up.cpuMs() - upCpu;
  const b = process.cpuUsage(benchCpu);
  if (session && profDir !== undefined) {
    up.signal("SIGUSR2");
    const { profile } = await session.post("Profiler.stop");
    session.disconnect();
    await writeFile(join(profDir, `bench-${++benchProfiles}.cpuprofile`), JSON.stringify(profile));
  }
  return { ...r, upCpuMs: upMs / r.count, benchCpuMs: (b.user + b.system) / 1000 / r.count };
}

/** A running `up` with its phones made, registered and deposited. */
interface BenchStack {
  up: ServerProcess;
  client: StackClient;
  carrierUrl: string;
  token: string;
  devices: LeanDevice[];
  activate: (i: number) => Promise<void>;
}

/** Starts `up` in `dir` and makes `n` phones for it (a factory of its own: lines close after). */
async function startBenchStack(dir: string, n: number, http: BenchHttp): Promise<BenchStack> {
  const up = await startUp(dir, {
    nonceTtlMs: NONCE_TTL_MS,
    ...(process.env.BENCH_CPU_PROF ? { cpuProfDir: process.env.BENCH_CPU_PROF } : {}),
  });
  try {
    const stack = await StackClient.open(dir);
    const carrierUrl = stack.carrier(CARRIER).url;
    const token = (await readCredentials(dir)).adminTokens[`carrier:${CARRIER}`]!;
    const factory = new Factory(FACTORY_LINES);
    let devices: LeanDevice[];
    try {
      devices = await provision(factory, stack, token, n);
    } finally {
      await factory.close();
    }
    const activate = (i: number) => activateLean(devices[i % devices.length]!, http, carrierUrl);
    return { up, client: stack, carrierUrl, token, devices, activate };
  } catch (err) {
    await up.stop();
    throw err;
  }
}

/** Runs of each stack, taken turn about, summed per stack. */
interface Alternation {
  perSecond: [number, number];
  upCpuMs: [number, number];
}

/**
 * Timed runs on two stacks in turn, `rounds` of each (an even number), `seconds` long: the
 * machine's speed drifts by a fifth within minutes here (hello-world between runs), and taken
 * in turn both stacks see the same drift, where one run before and one after would not.
 */
async function alternate(
  stacks: [BenchStack, BenchStack],
  rounds: number,
  seconds: number,
): Promise<Alternation> {
  const count = [0, 0];
  const secs = [0, 0];
  const cpu = [0, 0];
  for (let r = 0; r < rounds; r++) {
    // Each stack goes first in half the rounds: whichever runs first in a round ran slower
    // (a control with no import read the second stack 7.7% faster when it always went second).
    for (const k of (r % 2 === 0 ? [0, 1] : [1, 0]) as (0 | 1)[]) {
      const t = await timedRun(stacks[k].up, stacks[k].activate, seconds);
      count[k]! += t.count;
      secs[k]! += t.seconds;
      cpu[k]! += t.upCpuMs * t.count;
    }
  }
  return {
    perSecond: [count[0]! / secs[0]!, count[1]! / secs[1]!],
    upCpuMs: [cpu[0]! / count[0]!, cpu[1]! / count[1]!],
  };
}

export async function benchActivation(): Promise<Figure[]> {
  const dirs = [await mkdtemp(join(tmpdir(), "dmguard-bench-up-"))];
  const servers: ServerProcess[] = [];
  const http = new BenchHttp(CONCURRENCY);
  const figures: Figure[] = [];
  try {
    const tp = performance.now();
    const cpu = process.cpuUsage();
    const base = await startBenchStack(dirs[0]!, DEVICES, http);
    const { up, devices, activate } = base;
    servers.push(up);
    const provisionS = (performance.now() - tp) / 1000;
    const c = process.cpuUsage(cpu);
    console.log(
      `  (${DEVICES} phones made, registered and deposited at the platform in ${provisionS.toFixed(1)} s; bench CPU ${((c.user + c.system) / 1000 / DEVICES).toFixed(1)} ms a phone)`,
    );

    // Memory: a fleet of every phone once (its first activation), sampled every 200 ms; then
    // nothing until its nonces have expired (DM sessions end with their session).
    const rssStart = up.rssMb();
    if (process.env.BENCH_VERBOSE === "1") up.signal("SIGUSR1");
    let rssPeak = rssStart;
    const fleet = await load(CONCURRENCY, activate, { total: devices.length }, () => {
      rssPeak = Math.max(rssPeak, up.rssMb());
    });
    const rssEnd = up.rssMb();
    rssPeak = Math.max(rssPeak, rssEnd);
    await sleep(NONCE_TTL_MS + 2_000);
    const rssIdle = up.rssMb();
    if (process.env.BENCH_VERBOSE === "1") up.signal("SIGUSR1");
    console.log(
      `  (fleet of ${fleet.count}: ${fleet.perSecond.toFixed(0)}/s; up RSS ${rssStart.toFixed(0)} MB before, peak ${rssPeak.toFixed(0)}, ${rssEnd.toFixed(0)} at its end, ${rssIdle.toFixed(0)} once its nonces expired: ${rssParts(up.pid)})`,
    );

    const requestsBefore = http.requests;
    const act = await timedRun(up, activate);
    const requestsPerActivation = (http.requests - requestsBefore) / act.count;

    const hello = await startHello();
    servers.push(hello);
    const helloOp = async () => {
      const r = await http.post(hello.url, "{}", { "content-type": "application/json" });
      if (r.status !== 200) throw new Error(`hello-world answered ${r.status}`);
    };
    await load(CONCURRENCY, helloOp, { seconds: 1 });
    const helloCpu = hello.cpuMs();
    const helloBenchCpu = process.cpuUsage();
    const bare = await load(CONCURRENCY, helloOp, { seconds: Math.min(SECONDS, 5) });
    const helloBench = process.cpuUsage(helloBenchCpu);
    // CPU of both processes per bare request: what HTTP alone costs on this machine.
    const bareRequestMs =
      (hello.cpuMs() - helloCpu + (helloBench.user + helloBench.system) / 1000) / bare.count;
    await hello.stop();
    servers.pop();

    const floor = await cryptoFloor(devices, (await base.client.oemCa()).certificatePem);
    const httpFloorMs = requestsPerActivation * bareRequestMs;
    const cores = availableParallelism();
    console.log(
      `  (crypto per activation, ms: phone signs its evidence ${floor.evidenceSign.toFixed(3)}, carrier checks signature and chain ${floor.attestation.toFixed(3)}, signs the verdict ${floor.verdictSign.toFixed(3)}, phone verifies it ${floor.verdictVerify.toFixed(3)}; ${requestsPerActivation.toFixed(1)} HTTP requests per activation, ${bareRequestMs.toFixed(3)} ms CPU each when bare)`,
    );

    figures.push(
      {
        name: `full activations, ${CONCURRENCY} concurrent`,
        value: act.perSecond,
        unit: "/s",
        min: 1_000,
      },
      { name: "activation latency p50", value: act.p50, unit: "ms" },
      { name: "activation latency p95", value: act.p95, unit: "ms" },
      { name: "activation latency p99", value: act.p99, unit: "ms", max: 50 },
      // CPU time per activation hardly depends on what else the machine runs: compare these.
      { name: "up CPU per activation", value: act.upCpuMs, unit: "ms" },
      { name: "load generator CPU per activation", value: act.benchCpuMs, unit: "ms" },
      // Both sides share the machine's cores: the most activations/s this CPU leaves room for.
      {
        name: `ceiling at this CPU per activation, ${cores} cores`,
        value: (cores * 1000) / (act.upCpuMs + act.benchCpuMs),
        unit: "/s",
      },
      {
        name: `bare node:http hello-world, ${CONCURRENCY} conc.`,
        value: bare.perSecond,
        unit: "req/s",
      },
      {
        name: "activations/s ÷ hello-world req/s",
        value: act.perSecond / bare.perSecond,
        unit: "",
      },
      // The floor under CPU per activation, and the most activations/s it leaves room for.
      { name: "crypto per activation, phone and carrier", value: floor.total, unit: "ms" },
      { name: "bare HTTP per activation, both sides", value: httpFloorMs, unit: "ms" },
      {
        name: `ceiling from these two alone, ${cores} cores`,
        value: (cores * 1000) / (floor.total + httpFloorMs),
        unit: "/s",
      },
      { name: `up RSS peak, ${fleet.count}-device fleet`, value: rssPeak, unit: "MB", max: 300 },
      // "No growth" at the resolution RSS has: it moves by pages as malloc and V8 come and go
      // (runs of the same build read 0.00 and 0.01 MB), while the expired sessions and nonces
      // of a fleet, were they kept, would be megabytes.
      {
        name: "up RSS growth, fleet end → nonces expired",
        value: rssIdle - rssEnd,
        unit: "MB",
        max: 1,
      },
    );

    if (INVENTORY_1M) {
      // A second stack, alike but for 1,000,000 more inventory rows: as many phones, and as
      // many activations behind it as the first has had (its fleet and its timed run), since
      // the verdicts, audit entries and DM sessions they leave make every later one dearer.
      const bigDir = await mkdtemp(join(tmpdir(), "dmguard-bench-up-1m-"));
      dirs.push(bigDir);
      const big = await startBenchStack(bigDir, DEVICES, http);
      servers.push(big.up);
      await load(CONCURRENCY, big.activate, { total: big.devices.length });
      await load(CONCURRENCY, big.activate, { total: act.count });
      const importS = await import1M(http, big.carrierUrl, big.token);
      await load(CONCURRENCY, big.activate, { seconds: 2 });
      await load(CONCURRENCY, activate, { seconds: 1 });
      const turns = await alternate([base, big], ROUNDS_1M, SECONDS_1M);
      figures.push(
        { name: "1,000,000-row CSV import (admin API)", value: importS, unit: "s" },
        {
          name: `full activations, no 1M, ${ROUNDS_1M}×${SECONDS_1M} s in turn`,
          value: turns.perSecond[0],
          unit: "/s",
        },
        {
          name: `full activations, 1M more, ${ROUNDS_1M}×${SECONDS_1M} s in turn`,
          value: turns.perSecond[1],
          unit: "/s",
        },
        {
          name: "slowdown with 1M inventory (activations/s)",
          value: (1 - turns.perSecond[1] / turns.perSecond[0]) * 100,
          unit: "%",
          max: 10,
        },
        { name: "up CPU per activation, without the 1M", value: turns.upCpuMs[0], unit: "ms" },
        { name: "up CPU per activation, with 1M more", value: turns.upCpuMs[1], unit: "ms" },
      );
    } else {
      console.log("  (1M-inventory part skipped: BENCH_INVENTORY_1M=0)");
    }
    return figures;
  } finally {
    await http.close();
    for (const s of servers.reverse()) await s.stop();
    if (process.env.BENCH_KEEP !== "1") {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    }
  }
}
