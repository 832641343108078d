import { applyHeapFlags, capYoungGeneration } from "../../threads/heap-flags.js";

/**
 * How far V8 lets the old generation grow past what was live at the last full collection,
 * in percent, for the server processes `up` and `serve` run (V8's `--heap-growing-percent`).
 * Their commands apply it, not the stack's functions: V8 flags are process-wide, and tests that
 * start a stack in their own process should not change their runner's heap.
 *
 * Under load an activation's objects live for its whole round trip (hundreds of ms with 64 at
 * once), long enough to be promoted out of the young generation, so garbage lands in old
 * space. Left to its own heuristic V8 lets old space grow up to about four times the live
 * heap before collecting it, and keeps the pages it grew: through a 10,000-phone fleet the main
 * heap went from ~70 to ~120 MB committed while ~50 MB was live, and the process's resident
 * memory went past 300 MB. At 30% the old generation is collected once it holds ~15 MB of
 * garbage; `npm run bench -- activation` showed no change in CPU per activation, and a peak
 * about 40–100 MB lower.
 */
export const HEAP_GROWING_PERCENT = 30;

/**
 * The young generation (both semi-spaces) is held at 8 MB rather than grown to V8's 32 MB:
 * activations' objects survive scavenges while their round trips last, and that survival makes
 * V8 grow it to the largest, committed and, between collections, mostly garbage. It costs some
 * CPU (more scavenges) for a lot of memory. Measured with the phones deposited at the platform:
 * - 10,000-phone fleet: peak 251–257 MB, against 302–330 MB uncapped (target 300);
 * - interleaved 3,000-phone runs, six each: peak 209–220 MB against 264–274 MB; 325
 *   activations/s on average against 367, up's CPU per activation over the load generator's
 *   5% higher (the machine's speed varied more than that between runs);
 * - a 16 MB cap saved about half the memory and cost about as much CPU; 2 MB (a growth factor
 *   of 1 from the start) gave 235 MB and a third more CPU.
 * Applied before the servers' modules load, so that loading them does not grow it first
 * (threads/heap-flags.ts says how it is held).
 */
export const YOUNG_GENERATION_BYTES = 8 * 1024 * 1024;

let applied = false;

/** Applies both to this process (V8 flags are process-wide); once. */
export function limitHeapGrowth(): void {
  if (applied) return;
  applied = true;
  applyHeapFlags([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  capYoungGeneration(YOUNG_GENERATION_BYTES);
}
