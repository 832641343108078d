/**
 * `dmguard up` for the bench, as its own process: the stack's compose function from dist/ (what
 * `up` runs; `npm run build` first) on SQLite in the folder given as argv[2], every part of
 * `up`, no request log (up's default), the carriers' activation nonces living
 * BENCH_NONCE_TTL_MS (default 10 s) so that they expire within the bench. Prints
 * `ready <base URL>` like `up`, then serves until SIGTERM.
 *
 * With BENCH_CPU_PROF=DIR, SIGUSR2 starts a CPU profile of the main thread and the next SIGUSR2
 * writes it to DIR/up-<pid>-<n>.cpuprofile (the 1M part runs a second up): the bench profiles
 * only what it times. SIGUSR1 prints the process's heap figures on stderr; with
 * BENCH_HEAP_SNAPSHOT=DIR it also writes a heap snapshot of the main thread there (diagnosis:
 * the snapshot pauses `up` for seconds).
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";
import { limitHeapGrowth } from "../../dist/cli/stack/heap-growth.js";

// As `dmguard up` sets it for its process (src/cli/stack/heap-growth.ts).
limitHeapGrowth();
// Then the stack's modules, as `up` loads them after it (src/cli/commands/up.ts).
const { startStack } = await import("../../dist/cli/stack/compose.js");
const { carrierPart, stackParts } = await import("../../dist/cli/stack/parts.js");

const dataDir = process.argv[2];
if (!dataDir) throw new Error("usage: up-child.mjs DATA_DIR");
const nonceTtlMs = Number(process.env.BENCH_NONCE_TTL_MS ?? 10_000);

// up's parts (stackParts), its carriers made as stackParts makes them plus the nonce lifetime
// (carrierPart passes its extras on to registerCarrier).
const parts = stackParts(dataDir).map((p) =>
  p.kind === "carrier" ? carrierPart(p.id, { nonceTtlMs }, { stackPlatform: true }) : p,
);
const stack = await startStack({ dataDir, port: 0, host: "127.0.0.1", parts });

const profDir = process.env.BENCH_CPU_PROF;
if (profDir) {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  let running = false;
  let n = 0;
  process.on("SIGUSR2", async () => {
    if (!running) {
      running = true;
      await session.post("Profiler.start");
      return;
    }
    running = false;
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(join(profDir, `up-${process.pid}-${++n}.cpuprofile`), JSON.stringify(profile));
  });
}

// SIGUSR1 (diagnosis): the heap and resident figures of this process, in MB, on stderr.
process.on("SIGUSR1", () => {
  const m = process.memoryUsage();
  const mb = (n) => Math.round(n / 1048576);
  process.stderr.write(
    `memory rss ${mb(m.rss)} heapTotal ${mb(m.heapTotal)} heapUsed ${mb(m.heapUsed)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}\n`,
  );
  // Where the main heap's committed size is, space by space (size/used).
  const spaces = getHeapSpaceStatistics()
    .filter((s) => s.space_size >= 1048576)
    .map((s) => `${s.space_name} ${mb(s.space_size)}/${mb(s.space_used_size)}`);
  process.stderr.write(`heap spaces ${spaces.join(", ")}\n`);
  const snapDir = process.env.BENCH_HEAP_SNAPSHOT;
  if (snapDir)
    process.stderr.write(
      `heap snapshot ${writeHeapSnapshot(join(snapDir, `up-${Date.now()}.heapsnapshot`))}\n`,
    );
});

process.stdout.write(`ready ${stack.baseUrl}\n`);
const stop = async () => {
  await stack.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
