// Runs the test files (test/**/*.test.ts, or those whose path contains one of the arguments),
// each in its own process as `node --test` would, but with a watchdog per file: a file that
// has not finished after TEST_FILE_TIMEOUT_S seconds (default 600) is killed with its process
// group and counted as failed, so one hung file cannot hold CI until its overall limit. Each
// file's report is printed whole once it ends, so parallel files do not interleave. Node 20's
// runner has neither a per-file limit nor globbing, hence this script.
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = find("test")
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();
const limitMs = Number(process.env.TEST_FILE_TIMEOUT_S ?? 600) * 1000;
// node --test's own default: one core is left to the servers and peers the tests start.
const concurrency = Math.max(1, Number(process.env.TEST_CONCURRENCY ?? availableParallelism() - 1));
// The store's transaction-misuse check (src/store/context.ts) is on for every test, and for
// the processes tests spawn.
const env = { ...process.env, DMGUARD_STORE_CHECKS: "1" };
const totals = { tests: 0, pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
// Each file runs in its own process group (for the watchdog), which a Ctrl-C at the terminal
// does not reach: the runner passes it on.
const running = new Set();
for (const [sig, number] of [
  ["SIGINT", 2],
  ["SIGTERM", 15],
]) {
  process.on(sig, () => {
    for (const pid of running) killGroup(pid);
    process.exit(128 + number);
  });
}

function killGroup(pid) {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
const failedFiles = [];

/** The figures the spec reporter ends a file's report with ("ℹ pass 12"). */
function addTotals(report) {
  for (const key of Object.keys(totals)) {
    const m = new RegExp(`^ℹ ${key} (\\d+)$`, "m").exec(report);
    if (m) totals[key] += Number(m[1]);
  }
}

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--test-reporter=spec", "--test-reporter-destination=stdout", file],
      { env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    running.add(child.pid);
    const chunks = [];
    child.stdout.on("data", (c) => chunks.push(c));
    child.stderr.on("data", (c) => chunks.push(c));
    let timedOut = false;
    const watchdog = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, limitMs);
    child.on("close", (code, signal) => {
      clearTimeout(watchdog);
      running.delete(child.pid);
      const report = Buffer.concat(chunks).toString("utf8");
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(`\n▶ ${file} (${seconds} s)\n${report}`);
      addTotals(report);
      if (timedOut) {
        process.stdout.write(`✖ ${file}: killed after ${limitMs / 1000} s without finishing\n`);
        failedFiles.push(`${file} (timed out)`);
      } else if (code !== 0) {
        failedFiles.push(`${file} (exit ${code ?? signal})`);
      }
      resolve();
    });
  });
}

const t0 = Date.now();
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(concurrency, files.length) }, async () => {
    while (next < files.length) await runFile(files[next++]);
  }),
);
const summary = Object.entries(totals)
  .map(([k, v]) => `${k} ${v}`)
  .join(", ");
process.stdout.write(
  `\n${files.length} files in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${summary}\n`,
);
if (failedFiles.length > 0) {
  process.stdout.write(`failed files:\n${failedFiles.map((f) => `  ${f}`).join("\n")}\n`);
}
process.exit(failedFiles.length > 0 || files.length === 0 ? 1 : 0);
