import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runCli } from "../support/cli.js";
import { startUp, tempDir, type UpProcess } from "./stack-support.js";

describe("dmguard fleet", () => {
  let data: Awaited<ReturnType<typeof tempDir>>;
  let up: UpProcess;

  before(async () => {
    data = await tempDir("fleet");
    up = await startUp(["--data", data.path]);
  });
  after(async () => {
    await up.stop();
    await data.remove();
  });

  test("--json prints exactly CONTRACT.md's shape; every verdict as expected", async () => {
    const r = await runCli([
      "fleet",
      "--stack",
      data.path,
      "--devices",
      "6",
      "--concurrency",
      "3",
      "--tamper-rate",
      "0.5",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "", "no progress bar when stderr is not a terminal");
    const doc = JSON.parse(r.stdout.toString());
    assert.deepEqual(Object.keys(doc).sort(), [
      "activationsPerSecond",
      "concurrency",
      "devices",
      "latencyMs",
      "mismatches",
      "seconds",
      "verdicts",
    ]);
    assert.deepEqual(Object.keys(doc.latencyMs).sort(), ["p50", "p95", "p99"]);
    assert.deepEqual(doc.verdicts, { approved: 3, denied: 3 });
    assert.equal(doc.devices, 6);
    assert.equal(doc.concurrency, 3);
    assert.equal(doc.mismatches, 0);
    assert.ok(doc.seconds > 0 && doc.activationsPerSecond > 0);
    assert.ok(doc.latencyMs.p50 <= doc.latencyMs.p95 && doc.latencyMs.p95 <= doc.latencyMs.p99);
  });

  test("the report for a person: throughput, percentiles, expected vs actual", async () => {
    const r = await runCli(["fleet", "--stack", data.path, "--devices", "3", "--tamper-rate", "0"]);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.toString();
    assert.match(out, /activations\/s/);
    assert.match(out, /p50 [\d.]+ ms\s+p95 [\d.]+ ms\s+p99 [\d.]+ ms/);
    assert.match(out, /^\s+clean\s+3\s+approved\s+approved ×3$/m);
    assert.match(out, /mismatches\s+0/);
  });

  test("bad flags: exit 2", async () => {
    const results = await Promise.all(
      [
        ["--devices", "0"],
        ["--devices", "5", "--tamper-rate", "1.5"],
        ["--devices", "5", "--concurrency", "many"],
      ].map((extra) => runCli(["fleet", "--stack", data.path, ...extra])),
    );
    for (const r of results) assert.equal(r.code, 2, r.stderr);
  });
});
