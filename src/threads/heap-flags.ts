import {
  constants,
  PerformanceObserver,
  type PerformanceObserverEntryList,
  performance,
} from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

/**
 * V8 heap flags a process sets for itself at run time, kept so that they can be set again.
 *
 * V8's flags are process-wide, and configuring a new isolate may rewrite some of them: setting
 * up a worker's heap puts `--semi-space-growth-factor` back to 2 for the whole process,
 * undoing a factor of 1 that the main thread set (seen with resource limits, which the
 * keystore, checkpoint and attestation threads have; test/threads/heap-flags.test.ts). Every
 * worker of ours starts through startSiblingWorker, which calls reapplyHeapFlags once the
 * worker is online (its isolate configured).
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
  holdYoungGeneration();
}

/** V8's own growth factor, which a worker's heap set-up restores anyway. */
const GROWTH_FACTOR = 2;
/** Objects kept alive at once while growing: ~1.5 MB, more than a small semi-space holds. */
const RING = 32_768;
/** Rounds of RING allocations without growth after which V8's own maximum is taken as reached. */
const STALLED_ROUNDS = 8;
/** How long growing may take at start (about 40 ms to 8 MB here), and when growing back. */
const GROW_DEADLINE_MS = 200;
const REGROW_DEADLINE_MS = 50;
/**
 * Growing back happens only under load: at least this many scavenges in the last second
 * (V8 shrinks the young generation when the process idles, and an idle process should stay so).
 */
const BUSY_SCAVENGES_PER_S = 20;

let youngCap: number | undefined;
let observer: PerformanceObserver | undefined;
let windowStart = 0;
let scavenges = 0;
let lastGrown = Number.NEGATIVE_INFINITY;

function setGrowthFactor(factor: number): void {
  setFlagsFromString(`--semi-space-growth-factor=${factor}`);
}

function newSpaceBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === "new_space") return s.space_size;
  return 0;
}

/**
 * Grows the young generation towards `bytes`: allocates objects that outlive a scavenge or two
 * (what makes V8 grow it) until it holds that much, stops growing (V8's maximum is smaller, as
 * on a machine with little memory), or the deadline has passed. Returns the size reached.
 */
function growYoungGeneration(bytes: number, deadlineMs: number): number {
  lastGrown = performance.now();
  setGrowthFactor(GROWTH_FACTOR);
  const ring = new Array<unknown>(RING);
  const until = lastGrown + deadlineMs;
  let size = newSpaceBytes();
  for (let n = 0, stalled = 0; size < bytes && stalled < STALLED_ROUNDS; n++) {
    if (performance.now() >= until) break;
    for (let i = 0; i < RING; i++) ring[i] = { n, i };
    const now = newSpaceBytes();
    stalled = now > size ? 0 : stalled + 1;
    size = now;
  }
  setGrowthFactor(1);
  return size;
}

/** The growth factor back at 1; the young generation grown back if V8 shrank it under load. */
function steerYoungGeneration(list: PerformanceObserverEntryList): void {
  setGrowthFactor(1);
  const now = performance.now();
  if (now - windowStart >= 1_000) {
    windowStart = now;
    scavenges = 0;
  }
  for (const e of list.getEntries()) {
    const detail = (e as { detail?: { kind?: number } }).detail;
    if (detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
  }
  if (youngCap === undefined || scavenges < BUSY_SCAVENGES_PER_S) return;
  if (now - lastGrown < 1_000 || newSpaceBytes() >= youngCap) return;
  growYoungGeneration(youngCap, REGROW_DEADLINE_MS);
}

/** Sets the growth factor to 1 again (a worker's heap set-up may have put it back to 2). */
function holdYoungGeneration(): void {
  if (youngCap !== undefined) setGrowthFactor(1);
}

/**
 * Holds this thread's young generation (both semi-spaces) near `maxBytes`, where V8 would grow
 * it to 32 MB under a load whose objects survive a scavenge. Its maximum cannot be lowered once
 * the process runs (V8 reads `--max-semi-space-size` when it sets the heap up), but its growth
 * can be stopped: it is grown to the cap now (or as far as V8 lets it, which then becomes the
 * cap), and the growth factor is 1 from then on, set again after every collection and after
 * each sibling worker's start. It is a target rather than a hard limit: a collection between a
 * worker's heap set-up and the worker coming online may still double it, until V8 shrinks it
 * when the process idles. Under load, a young generation V8 has shrunk is grown back (at most
 * once a second), since a small one costs far more scavenges.
 */
export function capYoungGeneration(maxBytes: number): void {
  youngCap = Math.min(maxBytes, growYoungGeneration(maxBytes, GROW_DEADLINE_MS));
  if (observer) return;
  observer = new PerformanceObserver(steerYoungGeneration);
  observer.observe({ entryTypes: ["gc"] });
}
