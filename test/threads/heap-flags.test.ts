/**
 * The young generation's cap (src/threads/heap-flags.ts): under allocation that survives
 * scavenges it grows to the cap and no further, also after a sibling worker starts, whose
 * isolate set-up raises V8's growth factor for the whole process.
 *
 * It runs in a child process on the compiled modules (npm test builds first), as `up` runs them:
 * V8 flags are process-wide, and under tsx a worker would also start a loader thread, one more
 * isolate set up after the worker is online.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const dist = (path: string) => new URL(`../../dist/${path}`, import.meta.url).href;
const BUILT = existsSync(fileURLToPath(dist("threads/sibling-worker.js")));
const MB = 1024 * 1024;

const CHILD = `
import { getHeapSpaceStatistics } from "node:v8";
const { capYoungGeneration } = await import(${JSON.stringify(dist("threads/heap-flags.js"))});
const { startSiblingWorker } = await import(${JSON.stringify(dist("threads/sibling-worker.js"))});
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
// Allocation with high survival: what makes V8 grow the young generation to its largest.
function churn() {
  const ring = new Array(20000);
  for (let r = 0; r < 1000; r++) for (let i = 0; i < 2000; i++) ring[(r * 2000 + i) % 20000] = { i, r };
}
const seen = {};
if (process.argv[1] === "cap") capYoungGeneration(${8 * MB});
churn();
seen.capped = newSpace();
// Any sibling worker (the attestation thread's module, which waits for messages), with a heap
// limit as all of ours have: V8 sets its heap up from those constraints.
const worker = startSiblingWorker(
  ${JSON.stringify(dist("evidence/attestation-thread.js"))},
  "attestation-worker",
  { resourceLimits: { maxYoungGenerationSizeMb: 2 } },
);
await new Promise((resolve) => worker.once("online", resolve));
churn();
seen.afterWorker = newSpace();
await worker.terminate();
process.stdout.write(JSON.stringify(seen));
`;

function run(mode: "cap" | "none"): { capped: number; afterWorker: number } {
  // Under V8's default maximum: 16 MB semi-spaces on a machine with a few GB of memory or more.
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", CHILD, mode], {
    encoding: "utf8",
  });
  return JSON.parse(out) as { capped: number; afterWorker: number };
}

test("the young generation grows to its cap and stays there through a worker's start", {
  skip: !BUILT && "dist/ not built",
}, () => {
  const seen = run("cap");
  assert.ok(seen.capped > 2 * MB && seen.capped <= 8 * MB, `capped at ${seen.capped / MB} MB`);
  assert.ok(seen.afterWorker <= 8 * MB, `grew to ${seen.afterWorker / MB} MB after the worker`);
  // The same allocation without the cap: what it holds the young generation back from.
  const free = run("none");
  assert.ok(free.afterWorker > 8 * MB, `uncapped, it reached only ${free.afterWorker / MB} MB`);
});
