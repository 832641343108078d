/**
 * The fleet's devices, planned before any is made: carriers in turn, a mix of the TAC table's
 * models and user groups, and exactly round(N × rate) tampered devices, each with one tamper
 * KIND drawn uniformly (so the expected verdict table is known up front).
 */
import { randomInt } from "node:crypto";
import { join } from "node:path";
import { TAMPER_KINDS, type TamperKind } from "../../device/index.js";
import { DEVICE_MODELS } from "../../identity/index.js";
import { expectedFor } from "./expected.js";
import type { DevicePlan } from "./run-device.js";

const GROUPS = ["executive", "technology", "worker"] as const;

export function planFleet(opts: {
  devices: number;
  tamperRate: number;
  carriers: readonly string[];
  root: string;
}): DevicePlan[] {
  const { devices, carriers } = opts;
  const tampered = new Set<number>();
  const want = Math.round(devices * opts.tamperRate);
  // Floyd's algorithm: `want` distinct indexes, uniformly, without shuffling all N.
  for (let j = devices - want; j < devices; j++) {
    const t = randomInt(j + 1);
    tampered.add(tampered.has(t) ? j : t);
  }
  return Array.from({ length: devices }, (_, i) => {
    const kinds: TamperKind[] = tampered.has(i)
      ? [TAMPER_KINDS[randomInt(TAMPER_KINDS.length)]!]
      : [];
    return {
      label: kinds[0] ?? "clean",
      dir: join(opts.root, `device-${String(i + 1).padStart(6, "0")}`),
      carrier: carriers[i % carriers.length]!,
      model: DEVICE_MODELS[i % DEVICE_MODELS.length]!.name,
      userGroup: GROUPS[i % GROUPS.length]!,
      tamper: kinds,
      expected: expectedFor(kinds),
    };
  });
}
