/**
 * `dmguard up --demo`: once the stack is ready, the OEM makes the demo fleet (demo/scenarios.ts)
 * in a temporary folder, some devices are tampered with, and each activates against the stack;
 * then one table says what happened to each. Devices activate one after another, so the clone
 * meets the original already active. Failures are rows in the table, never a crash of `up`.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonical } from "../fleet/expected.js";
import type { DeviceOutcome, DevicePlan } from "../fleet/run-device.js";
import { activateTimed, makeDevice } from "../fleet/run-device.js";
import { writeOutput } from "../io.js";
import { StackClient } from "../stack/client.js";
import type { RunningStack } from "../stack/compose.js";
import { DEMO_SCENARIOS } from "./scenarios.js";

export interface Demo {
  /** Removes the device folders (`up` calls it when it stops). */
  cleanup(): Promise<void>;
}

const INTRO = [
  "",
  "demo: the OEM makes each device (certificate from the OEM CA, slot 0 key from the carrier's",
  "keystore, HPKE-wrapped to the device's trusted security zone) and registers it; some are then",
  "tampered with. Each activates: nonce -> signed evidence -> carrier verdict -> OMA DM session.",
  "The last ones activate through the enterprise initech, which forwards the evidence to the",
  "carrier or the platform, then applies its enrolment and provisions its group's content.",
  "",
].join("\n");

export async function runDemo(stack: RunningStack, signal: AbortSignal): Promise<Demo> {
  const root = await mkdtemp(join(tmpdir(), "dmguard-demo-"));
  const demo: Demo = { cleanup: () => rm(root, { recursive: true, force: true }) };
  await writeOutput(`${INTRO}\n`);
  const client = await StackClient.open(stack.dataDir);
  const taken = new Set<string>();
  const outcomes: DeviceOutcome[] = [];
  for (const [i, s] of DEMO_SCENARIOS.entries()) {
    if (signal.aborted) break;
    const plan: DevicePlan = {
      label: s.what,
      dir: join(root, `device-${i + 1}`),
      carrier: s.carrier,
      model: s.model,
      userGroup: s.userGroup,
      tamper: s.tamper ?? [],
      counterfeit: s.counterfeit === true,
      register: s.register !== false && s.cloneOf === undefined,
      block: s.block === true,
      expected: s.expected,
      ...(s.enterprise === undefined ? {} : { enterprise: s.enterprise }),
      ...(s.via === undefined ? {} : { via: s.via }),
      ...(s.cloneOf === undefined ? {} : { imei: outcomes[s.cloneOf]?.imei ?? "" }),
    };
    let outcome: DeviceOutcome;
    try {
      const made = await makeDevice(client, plan, { taken });
      try {
        outcome = await activateTimed(made);
      } finally {
        await made.device.close();
      }
    } catch (err) {
      outcome = {
        plan,
        imei: plan.imei ?? "",
        verdict: "error",
        reasons: [],
        networkAccess: "none",
        latencyMs: 0,
        error: err instanceof Error ? err.message : String(err),
        matches: false,
      };
    }
    outcomes.push(outcome);
  }
  await writeOutput(table(outcomes, root));
  return demo;
}

function table(outcomes: readonly DeviceOutcome[], root: string): string {
  const rows = [
    ["#", "device", "IMEI", "carrier", "what was done", "verdict", "access", "reasons"],
  ];
  outcomes.forEach((o, i) => {
    rows.push([
      String(i + 1),
      o.plan.model,
      o.imei,
      o.plan.carrier,
      o.plan.label,
      o.error === null ? o.verdict : "ERROR",
      o.networkAccess,
      o.error ?? (canonical(o.reasons).join(" ") || "-"),
    ]);
  });
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const fmt = (r: string[]) =>
    `  ${r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ")}`.trimEnd();
  const bad = outcomes.filter((o) => !o.matches);
  const lines = [fmt(rows[0]!), fmt(widths.map((w) => "-".repeat(w))), ...rows.slice(1).map(fmt)];
  lines.push(
    "",
    bad.length === 0
      ? `  all ${outcomes.length} verdicts are the ones CONTRACT.md expects; approved devices hold their profile (full access),`
      : `  ${bad.length} of ${outcomes.length} verdicts differ from what CONTRACT.md expects: ${bad.map((o) => outcomes.indexOf(o) + 1).join(", ")}`,
  );
  if (bad.length === 0) {
    lines.push("  denied ones only emergency and customer care (limited access).");
  }
  lines.push(
    `  device folders: ${root} (removed when up stops)`,
    `  look at one:    dmguard device status ${join(root, "device-1")}`,
    "",
  );
  return lines.join("\n");
}
