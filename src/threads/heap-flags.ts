import { PerformanceObserver, performance } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

/**
 * V8 heap flags a process sets for itself at run time, kept so that they can be set again.
 *
 * V8's flags are process-wide, and configuring a new isolate may rewrite some of them: setting
 * up the heap of a worker with resource limits (all of ours have them) puts
 * `--semi-space-growth-factor` back to 2 for the whole process, undoing a factor of 1 that the
 * main thread set (test/threads/heap-flags.test.ts shows it). Every worker
 * of ours starts through startSiblingWorker, which calls reapplyHeapFlags once the worker is
 * online (its isolate configured).
 */
const applied: string[] = [];

/** Sets each flag (`--name=value`) now and again after every sibling worker starts. */
export function applyHeapFlags(flags: readonly string[]): void {
  for (const f of flags) {
    setFlagsFromString(f);
    if (!applied.includes(f)) applied.push(f);
  }
}

/** Sets the applied flags again (a new isolate may have rewritten them). */
export function reapplyHeapFlags(): void {
  for (const f of applied) setFlagsFromString(f);
  if (youngCap !== undefined) steerYoungGeneration();
}

/** V8's own growth factor, which ConfigureHeap restores anyway. */
const GROWTH_FACTOR = 2;
/** Objects kept alive at once while growing: ~1.5 MB, more than a small semi-space holds. */
const RING = 32_768;
/** How long growing may take (about 40 ms to 8 MB here), and how often it may happen. */
const GROW_DEADLINE_MS = 500;
const REGROW_INTERVAL_MS = 1_000;

let youngCap: number | undefined;
let lastGrown = Number.NEGATIVE_INFINITY;
let observer: PerformanceObserver | undefined;

function newSpaceBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === "new_space") return s.space_size;
  return 0;
}

/**
 * Grows the young generation to `bytes`: allocates objects that outlive a scavenge or two (what
 * makes V8 grow it) until it holds that much or the deadline has passed.
 */
function growYoungGeneration(bytes: number): void {
  lastGrown = performance.now();
  setFlagsFromString(`--semi-space-growth-factor=${GROWTH_FACTOR}`);
  const ring = new Array<unknown>(RING);
  const until = lastGrown + GROW_DEADLINE_MS;
  for (let n = 0; newSpaceBytes() < bytes && performance.now() < until; n++) {
    for (let i = 0; i < RING; i++) ring[i] = { n, i };
  }
  setFlagsFromString("--semi-space-growth-factor=1");
}

/** The growth factor back at 1; the young generation grown back to the cap if V8 shrank it. */
function steerYoungGeneration(): void {
  setFlagsFromString("--semi-space-growth-factor=1");
  if (youngCap === undefined || newSpaceBytes() >= youngCap) return;
  if (performance.now() - lastGrown >= REGROW_INTERVAL_MS) growYoungGeneration(youngCap);
}

/**
 * Holds this thread's young generation (both semi-spaces) at `maxBytes`, where V8 would grow it
 * to 32 MB under a load whose objects survive a scavenge. Its maximum cannot be lowered once
 * the process runs (V8 reads `--max-semi-space-size` when it sets the heap up), but its growth
 * can be stopped: it is grown to the cap now, and the growth factor is 1 from then on, set
 * again after every collection (a worker's start rewrites it). V8 shrinks the young generation
 * when the process idles; the first collection that finds it below the cap grows it back (at
 * most once a second), since a small one costs far more scavenges under load.
 */
export function capYoungGeneration(maxBytes: number): void {
  youngCap = maxBytes;
  growYoungGeneration(maxBytes);
  if (observer) return;
  observer = new PerformanceObserver(steerYoungGeneration);
  observer.observe({ entryTypes: ["gc"] });
}
