/**
 * A carrier's rules for devices leaving it (src/platform/README.md "Migration"), which the
 * platform applies when another carrier asks about one of that carrier's devices:
 * - `subsidyLock`: `until-contract-end` — locked while the contract end date in the carrier's
 *   record is after today (UTC); `days-after-activation:N` — locked until N days after the
 *   carrier first approved the device (the CTIA unlocking principles and the FCC's 60-day rule
 *   are of this kind); a device whose activation date is unknown stays locked under it;
 *   `none` — never locked.
 * - `terminatedMayPortOut`: whether a device whose service the carrier ended may move
 *   (default false: DEVICE_TERMINATED).
 */
import { orderReasons, type ReasonCode } from "../evidence/index.js";

export type SubsidyLock =
  | { kind: "until-contract-end" }
  | { kind: "days-after-activation"; days: number }
  | { kind: "none" };

export interface MigrationPolicy {
  subsidyLock: SubsidyLock;
  terminatedMayPortOut: boolean;
}

/** As configured: `subsidyLock` in its text form. */
export interface MigrationPolicyInput {
  subsidyLock?: string;
  terminatedMayPortOut?: boolean;
}

export const DEFAULT_POLICY: MigrationPolicy = {
  subsidyLock: { kind: "until-contract-end" },
  terminatedMayPortOut: false,
};

const DAY_MS = 86_400_000;

/** `until-contract-end`, `none` or `days-after-activation:N` (0 ≤ N ≤ 3650); TypeError else. */
export function parseSubsidyLock(text: string): SubsidyLock {
  if (text === "until-contract-end" || text === "none") return { kind: text };
  const m = /^days-after-activation:([0-9]{1,4})$/.exec(text);
  if (m && Number(m[1]) <= 3650) return { kind: "days-after-activation", days: Number(m[1]) };
  throw new TypeError(
    `subsidy lock policy ${JSON.stringify(text.slice(0, 60))} is not until-contract-end, none or days-after-activation:N`,
  );
}

export function resolvePolicy(input: MigrationPolicyInput | undefined): MigrationPolicy {
  return {
    subsidyLock:
      input?.subsidyLock === undefined
        ? DEFAULT_POLICY.subsidyLock
        : parseSubsidyLock(input.subsidyLock),
    terminatedMayPortOut: input?.terminatedMayPortOut ?? DEFAULT_POLICY.terminatedMayPortOut,
  };
}

/** Whether `record` is still subsidy-locked at `now` under `lock`. */
export function subsidyLocked(
  lock: SubsidyLock,
  record: { contractEnd: string | null; activatedAt?: number | null },
  now: number,
): boolean {
  switch (lock.kind) {
    case "none":
      return false;
    case "until-contract-end": {
      // A contract ending today no longer locks.
      const today = new Date(now).toISOString().slice(0, 10);
      return record.contractEnd !== null && record.contractEnd > today;
    }
    case "days-after-activation": {
      const at = record.activatedAt ?? null;
      return at === null || now < at + lock.days * DAY_MS;
    }
  }
}

/** The answer to a migration question, from the platform or from the old carrier itself. */
export interface MigrationAnswer {
  genuine: boolean;
  blocked: boolean;
  subsidyLocked: boolean;
  terminated: boolean;
  reasons: ReasonCode[];
}

/** Marks on a genuine device, as opposed to reasons that make it not genuine. */
const MARKS = new Set<ReasonCode>(["DEVICE_BLOCKED", "DEVICE_TERMINATED", "SUBSIDY_LOCKED"]);

/**
 * Applies the old carrier's policy to a judged device and words the answer. `record` is the
 * old carrier's record of it (null when it has none: nothing to lock). `reasons` is the
 * judgement's set; SUBSIDY_LOCKED is added to it, and DEVICE_TERMINATED removed when the
 * policy lets a terminated device move on (the answer still says `terminated`).
 */
export function migrationAnswer(
  j: { attested: boolean; reasons: Set<ReasonCode> },
  policy: MigrationPolicy,
  record: { contractEnd: string | null; activatedAt?: number | null } | null,
  now: number,
): MigrationAnswer {
  // Evidence that fails attestation learns nothing of the record (withholdUnattested).
  if (j.attested && record && subsidyLocked(policy.subsidyLock, record, now)) {
    j.reasons.add("SUBSIDY_LOCKED");
  }
  const terminated = j.reasons.has("DEVICE_TERMINATED");
  if (terminated && policy.terminatedMayPortOut) j.reasons.delete("DEVICE_TERMINATED");
  const reasons = orderReasons(j.reasons);
  return {
    genuine: j.attested && reasons.every((r) => MARKS.has(r)),
    blocked: reasons.includes("DEVICE_BLOCKED"),
    subsidyLocked: reasons.includes("SUBSIDY_LOCKED"),
    terminated,
    reasons,
  };
}
