import { setFlagsFromString } from "node:v8";

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

let applied = false;

/** Applies HEAP_GROWING_PERCENT to this process (V8 flags are process-wide); once. */
export function limitHeapGrowth(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
