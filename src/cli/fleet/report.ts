/**
 * The fleet's report: CONTRACT.md's `fleet --json` shape, and the same facts for a person
 * (throughput, latency percentiles, expected vs actual verdicts per scenario).
 */
import { canonical } from "./expected.js";
import type { DeviceOutcome } from "./run-device.js";
import { latencySummary, round1 } from "./stats.js";

/** CONTRACT.md `fleet --json`, exactly. */
export interface FleetJson {
  devices: number;
  concurrency: number;
  seconds: number;
  activationsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  mismatches: number;
  verdicts: { approved: number; denied: number };
}

export function fleetJson(
  outcomes: readonly DeviceOutcome[],
  concurrency: number,
  seconds: number,
): FleetJson {
  const ok = outcomes.filter((o) => o.error === null);
  return {
    devices: outcomes.length,
    concurrency,
    seconds: Math.round(seconds * 100) / 100,
    activationsPerSecond: round1(seconds > 0 ? ok.length / seconds : 0),
    latencyMs: latencySummary(ok.map((o) => o.latencyMs)),
    mismatches: outcomes.filter((o) => !o.matches).length,
    verdicts: {
      approved: outcomes.filter((o) => o.verdict === "approved").length,
      denied: outcomes.filter((o) => o.verdict === "denied").length,
    },
  };
}

const show = (verdict: string, reasons: readonly string[]) =>
  reasons.length === 0 ? verdict : `${verdict} ${canonical(reasons).join(" ")}`;

/** One row per scenario: how many devices, what they must get, what they got (tallied). */
export function verdictTable(outcomes: readonly DeviceOutcome[]): string[] {
  const groups = new Map<string, DeviceOutcome[]>();
  for (const o of outcomes) {
    const list = groups.get(o.plan.label) ?? [];
    list.push(o);
    groups.set(o.plan.label, list);
  }
  const rows: string[][] = [["scenario", "devices", "expected", "actual"]];
  for (const [label, list] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    const tally = new Map<string, number>();
    for (const o of list) {
      const got = o.error === null ? show(o.verdict, o.reasons) : "error";
      tally.set(got, (tally.get(got) ?? 0) + 1);
    }
    const { verdict, reasons } = list[0]!.plan.expected;
    rows.push([
      label,
      String(list.length),
      show(verdict, reasons),
      [...tally].map(([got, n]) => `${got} ×${n}`).join(", "),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd(),
  );
}

export function fleetText(
  j: FleetJson,
  outcomes: readonly DeviceOutcome[],
  made: { seconds: number; carriers: readonly string[]; tamperRate: number },
): string {
  const lines = [
    `fleet: ${j.devices} devices on ${made.carriers.join(", ")}, concurrency ${j.concurrency}, tamper rate ${made.tamperRate}`,
    `  manufactured  ${made.seconds.toFixed(1)} s`,
    `  activated     ${j.seconds} s, ${j.activationsPerSecond} activations/s (nonce, evidence, verdict, DM session)`,
    `  latency       p50 ${j.latencyMs.p50} ms   p95 ${j.latencyMs.p95} ms   p99 ${j.latencyMs.p99} ms`,
    `  verdicts      ${j.verdicts.approved} approved, ${j.verdicts.denied} denied`,
    "",
    ...verdictTable(outcomes).map((l) => `  ${l}`),
    "",
    `  mismatches    ${j.mismatches}`,
  ];
  const failed = outcomes.find((o) => o.error !== null);
  if (failed) lines.push(`  first error   ${failed.plan.dir}: ${failed.error}`);
  return `${lines.join("\n")}\n`;
}
