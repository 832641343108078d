import { crashPoint } from "../../fault/crash-point.js";
import type { Encoding } from "../../omadm/model/message.js";
import type { DmTransport } from "../../omadm/session/index.js";
import type { Device, DeviceStatus } from "../device.js";
import { type ActivationResult, type DmSessionSummary, serverUrlOf } from "./activate.js";
import { CarrierActivationApi } from "./carrier-api.js";
import { runDmSession } from "./dm-session.js";
import { ActivationError } from "./errors.js";
import { parseVia } from "./via.js";

/**
 * Migration from the device's carrier A to carrier B (DESIGN.md "Migration"), as
 * `device migrate DEVDIR --to carrier:B` runs it:
 * 1. a nonce from B (`POST /carriers/B/migration/nonce`);
 * 2. the TSZ's verification with slot A's key proof, plus `migrateTo: B` and the TSZ's HPKE
 *    public key, all signed (EVIDENCE.md "Migration");
 * 3. B's verdict (`POST /carriers/B/migration/evidence`), checked by the TSZ under B's key pinned
 *    at manufacture. A denial changes nothing on the device; an approval waits in the TSZ;
 * 4. B's DM session: its key, wrapped to the TSZ, in the Migration node first — the TSZ opens it
 *    into a free slot and, in the same sealed write, takes B's verdict (toggle key 0, active
 *    carrier B) — then B's profile.
 * A crash anywhere leaves A's state alone or B's key deposited (with B's verdict); running the
 * command again finishes it: B hands out the same wrapped key, which the TSZ finds already there.
 *
 * Crash points (src/fault/crash-point.ts): `device.migration.after-evidence` (B has judged),
 * `device.migration.after-verdict` (the TSZ holds B's approval, no key yet),
 * `device.migration.after-session` (key and profile in, nothing reported yet).
 */
export interface MigrateOptions {
  /** `carrier:ID`, the new carrier. */
  to: string;
  serverUrl?: string;
  encoding?: Encoding;
  timeoutMs?: number;
  fetch?: typeof fetch;
  dmTransport?: DmTransport;
}

/**
 * CONTRACT.md `device migrate --json`. `verdict`, `reasons` and `carrier` are B's answer;
 * `toggleKey` and `networkAccess` are the device's after the command, as `device status` shows
 * them: B's after an approval, still A's after a denial.
 */
export type MigrationResult = Omit<ActivationResult, "trigger"> & {
  /** The carrier whose key proved the device (the one it leaves). */
  from: string;
  /** Where B's key is, once deposited. */
  slot: { index: number; kid: string; alreadyPresent: boolean } | null;
};

/** The device's network access as CONTRACT.md's `migrate --json` field can say it. */
function reportedAccess(access: DeviceStatus["networkAccess"]): MigrationResult["networkAccess"] {
  return access === "none" ? "limited" : access;
}

/** The carrier the device leaves: its active one, else the first other carrier holding a slot. */
async function sourceCarrier(device: Device, to: string): Promise<string> {
  const s = await device.status();
  if (s.activeCarrier !== null && s.activeCarrier !== to) return s.activeCarrier;
  const other = s.slots.find((x) => x.carrier !== to);
  if (!other) {
    throw new ActivationError(
      "MIGRATION_TARGET_INVALID",
      `the device holds no key of a carrier other than ${to}: nothing to migrate from`,
    );
  }
  return other.carrier;
}

export async function migrateDevice(
  device: Device,
  opts: MigrateOptions,
): Promise<MigrationResult> {
  const to = parseVia(opts.to, "--to", ["carrier"]).id;
  const tsz = await device.tsz.status();
  if (!tsz.pinnedCarriers.includes(to)) {
    throw new ActivationError(
      "MIGRATION_TARGET_INVALID",
      `carrier ${to} is not one this device trusts (no verdict key pinned for it at manufacture)`,
    );
  }
  const from = await sourceCarrier(device, to);
  const holdsTo = tsz.slots.some((x) => x.carrier === to);
  if (!holdsTo && tsz.slots.length >= tsz.slotCount) {
    throw new ActivationError(
      "SLOTS_FULL",
      `all ${tsz.slotCount} key slots are occupied: no room for ${to}'s key; nothing was changed`,
    );
  }
  const api = new CarrierActivationApi({
    baseUrl: serverUrlOf(opts.serverUrl, await device.config()),
    carrier: to,
    flow: "migration",
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });

  const nonce = await api.nonce(tsz.imei);
  const { evidence } = await device.verify(nonce, { carrier: from, migrateTo: to });
  const answer = await api.submitEvidence(evidence);
  crashPoint("device.migration.after-evidence");
  const outcome = await device.acceptVerdict(answer.verdict);
  crashPoint("device.migration.after-verdict");

  if (outcome.verdict !== "approved") {
    // B's verdict changed nothing: the device keeps the network access it had (A's, as `device
    // status` shows), not the access B would have given. CONTRACT.md's field has no "none", so
    // a device that never had a verdict reports "limited", as the approved path does.
    const after = await device.status();
    return {
      verdict: outcome.verdict,
      reasons: outcome.reasons,
      toggleKey: after.toggleKey,
      networkAccess: reportedAccess(after.networkAccess),
      carrier: outcome.carrier,
      via: outcome.via,
      profile: null,
      dmSession: null,
      from,
      slot: null,
    };
  }
  if (answer.dmAccount === null) {
    throw new ActivationError(
      "KEY_DEPOSIT_FAILED",
      `approved by ${to}, but its answer carried no DM account: no key can come; nothing was deposited`,
    );
  }

  const { result: dm } = await runDmSession(
    device,
    answer.dmAccount,
    "new-network",
    opts,
    `approved by ${to}, but the DM session failed (run the command again to finish)`,
  );
  crashPoint("device.migration.after-session");
  const deposit = dm.deposits.find((d) => d.carrier === to) ?? dm.deposits[0];
  if (!deposit || deposit.error !== null || deposit.kid === null || deposit.slot === null) {
    throw new ActivationError(
      deposit?.error?.code === "SLOTS_FULL" ? "SLOTS_FULL" : "KEY_DEPOSIT_FAILED",
      deposit?.error
        ? `${to}'s key was not deposited: ${deposit.error.message}`
        : `${to}'s DM session sent no key; nothing was deposited`,
    );
  }
  const after = await device.status();
  const { profile: _profile, enterprise: _content, ...session } = dm;
  return {
    verdict: "approved",
    reasons: [],
    toggleKey: after.toggleKey,
    networkAccess: reportedAccess(after.networkAccess),
    carrier: to,
    via: `carrier:${to}`,
    profile: dm.profile ? { ...dm.profile } : null,
    dmSession: session satisfies DmSessionSummary,
    from,
    slot: { index: deposit.slot, kid: deposit.kid, alreadyPresent: deposit.alreadyPresent },
  };
}
