/**
 * One device of a fleet or of the demo, in two steps: `makeDevice` (manufacture with the
 * stack's OEM and carrier, then the planned tampering and carrier actions) and `activateTimed`
 * (the whole activation: nonce, evidence, verdict, DM session), timed and compared with what
 * CONTRACT.md says it must give.
 */
import { activateDevice, type Device, type TamperKind, type TszPool } from "../../device/index.js";
import type { StackClient } from "../stack/client.js";
import { manufactureWithStack } from "../stack/factory.js";
import { type Expectation, sameVerdict } from "./expected.js";

export interface DevicePlan {
  /** Short words for the demo's table ("rooted: su binary"). */
  label: string;
  dir: string;
  carrier: string;
  model: string;
  userGroup: string | null;
  tamper: readonly TamperKind[];
  counterfeit?: boolean;
  /** Default true; false makes a grey-market device (or, with `imei`, a clone). */
  register?: boolean;
  imei?: string;
  /** Reported stolen before it activates. */
  block?: boolean;
  /** Enrolled at this enterprise (with `userGroup`) at manufacture. */
  enterprise?: string;
  /** `carrier:ID` or `enterprise:ID`; default `carrier:<carrier>`. */
  via?: string;
  expected: Expectation;
}

export interface MadeDevice {
  plan: DevicePlan;
  device: Device;
  imei: string;
}

export interface DeviceOutcome {
  plan: DevicePlan;
  imei: string;
  verdict: "approved" | "denied" | "error";
  reasons: string[];
  networkAccess: string;
  /** Whole activation, nonce to the end of the DM session. */
  latencyMs: number;
  /** One line, for a device whose activation failed outright. */
  error: string | null;
  matches: boolean;
}

export async function makeDevice(
  stack: StackClient,
  plan: DevicePlan,
  opts: { taken: Set<string>; pool?: TszPool },
): Promise<MadeDevice> {
  const { device, record } = await manufactureWithStack(stack, plan.dir, {
    carrier: plan.carrier,
    model: plan.model,
    userGroup: plan.userGroup,
    ...(plan.enterprise === undefined ? {} : { enterprise: plan.enterprise }),
    register: plan.register !== false,
    counterfeit: plan.counterfeit === true,
    taken: opts.taken,
    ...(plan.imei === undefined ? {} : { imei: plan.imei }),
    ...(opts.pool === undefined ? {} : { pool: opts.pool }),
  });
  try {
    for (const kind of plan.tamper) await device.tamper(kind);
    if (plan.block) await stack.carrier(plan.carrier).act(record.imei, "block");
  } catch (err) {
    await device.close();
    throw err;
  }
  return { plan, device, imei: record.imei };
}

export async function activateTimed(made: MadeDevice): Promise<DeviceOutcome> {
  const { plan, device, imei } = made;
  const t0 = performance.now();
  try {
    const r = await activateDevice(device, { via: plan.via ?? `carrier:${plan.carrier}` });
    const latencyMs = performance.now() - t0;
    return {
      plan,
      imei,
      verdict: r.verdict,
      reasons: r.reasons,
      networkAccess: r.networkAccess,
      latencyMs,
      error: null,
      matches: sameVerdict(plan.expected, r),
    };
  } catch (err) {
    return {
      plan,
      imei,
      verdict: "error",
      reasons: [],
      networkAccess: "none",
      latencyMs: performance.now() - t0,
      error: err instanceof Error ? err.message.split("\n")[0]! : String(err),
      matches: false,
    };
  }
}

/** Runs `work` over `items` with at most `limit` at once; results in input order. */
export async function pooled<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const i = next++;
      out[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
