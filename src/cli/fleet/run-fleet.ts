/**
 * `dmguard fleet` without the flags: plan N devices, manufacture them against the stack
 * (progress bar "manufacturing"), then activate them all with C at once (progress bar
 * "activating"); only the second phase is timed for throughput and latency. A device that
 * cannot be made or activated counts as a mismatch with its error, it does not stop the fleet.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { StackClient } from "../stack/client.js";
import { planFleet } from "./plan.js";
import { progressBar } from "./progress.js";
import { type FleetJson, fleetJson, fleetText } from "./report.js";
import {
  activateTimed,
  type DeviceOutcome,
  type DevicePlan,
  type MadeDevice,
  makeDevice,
  pooled,
} from "./run-device.js";

export interface FleetOptions {
  devices: number;
  concurrency: number;
  tamperRate: number;
  /** Keep the device folders here; default a temporary folder, removed at the end. */
  devicesDir?: string;
  signal?: AbortSignal;
}

export interface FleetResult {
  json: FleetJson;
  text: string;
  outcomes: DeviceOutcome[];
}

function failed(plan: DevicePlan, err: unknown): DeviceOutcome {
  return {
    plan,
    imei: "",
    verdict: "error",
    reasons: [],
    networkAccess: "none",
    latencyMs: 0,
    error: err instanceof Error ? err.message.split("\n")[0]! : String(err),
    matches: false,
  };
}

export async function runFleet(stack: StackClient, opts: FleetOptions): Promise<FleetResult> {
  const keep = opts.devicesDir !== undefined;
  const root = keep ? resolve(opts.devicesDir!) : await mkdtemp(join(tmpdir(), "dmguard-fleet-"));
  if (keep) await mkdir(root, { recursive: true });
  const carriers = stack.carrierIds();
  const plans = planFleet({ ...opts, carriers, root });
  const taken = new Set<string>();
  const made: Array<MadeDevice | DeviceOutcome> = [];
  try {
    const t0 = performance.now();
    const bar1 = progressBar("manufacturing", plans.length);
    made.push(
      ...(await pooled(
        plans,
        opts.concurrency,
        async (plan) => {
          try {
            return await makeDevice(stack, plan, { taken });
          } catch (err) {
            return failed(plan, err);
          } finally {
            bar1.tick();
          }
        },
        opts.signal,
      )),
    );
    bar1.done();
    const manufactureSeconds = (performance.now() - t0) / 1000;

    const bar2 = progressBar("activating", plans.length);
    const t1 = performance.now();
    const outcomes = await pooled(
      made,
      opts.concurrency,
      async (m) => {
        try {
          return "device" in m ? await activateTimed(m) : m;
        } finally {
          bar2.tick();
        }
      },
      opts.signal,
    );
    const seconds = (performance.now() - t1) / 1000;
    bar2.done();
    const json = fleetJson(outcomes, opts.concurrency, seconds);
    const text = fleetText(json, outcomes, {
      seconds: manufactureSeconds,
      carriers,
      tamperRate: opts.tamperRate,
    });
    return { json, text, outcomes };
  } finally {
    await Promise.all(made.map((m) => ("device" in m ? m.device.close() : undefined)));
    if (!keep) await rm(root, { recursive: true, force: true });
  }
}
