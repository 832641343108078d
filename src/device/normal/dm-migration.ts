import { MIGRATION_KEY_URI } from "../../evidence/migration-node.js";
import { crashPoint } from "../../fault/crash-point.js";
import { isWrappedKey, type WrappedKey } from "../../keystore/hpke-recipient.js";
import type { Item } from "../../omadm/model/message.js";
import type { TreeCommand } from "../../omadm/session/index.js";
import { isDeviceError } from "../errors.js";
import type { DepositOutcome } from "../tsz/messages.js";

/**
 * The migration key node (src/evidence/migration-node.ts), which the new carrier Replaces after
 * its profile commands in the same package. The DM client never writes it to the tree: it
 * stages the profile the tree now holds (dm-migration-stage.ts), hands the blob to the TSZ,
 * which opens it into a free slot, and answers with the TSZ's outcome as the command's status.
 */
export { MIGRATION_KEY_URI };

/** What the DM client may ask the TSZ to do with a wrapped key (Device answers it). */
export interface KeyDepositor {
  depositKey(carrier: string, wrapped: WrappedKey): Promise<DepositOutcome>;
}

/** A key deposit attempted in a session: the status it was answered with, and why. */
export interface MigrationDeposit {
  status: number;
  carrier: string | null;
  kid: string | null;
  /** The slot the key is in (also when it was there already). */
  slot: number | null;
  alreadyPresent: boolean;
  /** The TSZ's refusal (`SLOTS_FULL`, `WRAPPED_KEY_UNWRAP_FAILED`, …) and its message. */
  error: { code: string; message: string } | null;
}

/** SyncML statuses (OMA-TS-DM_RepPro §10) the deposit is answered with. */
export const DEPOSIT_STATUS = {
  ok: 200,
  badRequest: 400,
  forbidden: 403,
  alreadyExists: 418,
  deviceFull: 420,
  failed: 500,
} as const;

export function isMigrationKeyWrite(cmd: TreeCommand, item: Item): boolean {
  return (
    (cmd.kind === "Replace" || cmd.kind === "Add") && item.target?.locUri === MIGRATION_KEY_URI
  );
}

function refused(status: number, code: string, message: string): MigrationDeposit {
  return {
    status,
    carrier: null,
    kid: null,
    slot: null,
    alreadyPresent: false,
    error: { code, message },
  };
}

/**
 * Deposits the item's wrapped key for the carrier whose DM server (`serverId`, `<carrier>-dm`)
 * sent it: a server can only hand over its own carrier's key, and only into a free slot (the
 * TSZ's rules).
 */
export async function depositFromItem(
  item: Item,
  serverId: string,
  tsz: KeyDepositor,
  /**
   * Called once the key is known to be the server's carrier's, before the TSZ sees it: stages
   * that carrier's profile (dm-migration-stage.ts), or returns why it cannot (the profile did
   * not come first in the package); then nothing is deposited.
   */
  stage?: (carrier: string, kid: string) => Promise<string | null>,
): Promise<MigrationDeposit> {
  const data = item.data;
  let wrapped: unknown;
  try {
    wrapped = JSON.parse(typeof data === "string" ? data : Buffer.from(data ?? []).toString());
  } catch {
    return refused(DEPOSIT_STATUS.badRequest, "WRAPPED_KEY_INVALID", "the key node is not JSON");
  }
  if (!isWrappedKey(wrapped)) {
    return refused(DEPOSIT_STATUS.badRequest, "WRAPPED_KEY_INVALID", "not a wrapped key");
  }
  const carrier = wrapped.owner.replace(/^carrier:/, "");
  if (`${carrier}-dm` !== serverId) {
    return refused(
      DEPOSIT_STATUS.forbidden,
      "WRAPPED_KEY_INVALID",
      `DM server ${serverId} may not deposit a key of ${wrapped.owner}`,
    );
  }
  const unstaged = stage ? await stage(carrier, wrapped.kid) : null;
  if (unstaged !== null) {
    return { ...refused(DEPOSIT_STATUS.badRequest, "PROFILE_MISSING", unstaged), carrier };
  }
  crashPoint("device.migration.after-stage");
  try {
    const r = await tsz.depositKey(carrier, wrapped);
    // The key is sealed in the TSZ; its 200 has not left yet.
    crashPoint("device.migration.after-deposit");
    return {
      status: DEPOSIT_STATUS.ok,
      carrier,
      kid: r.kid,
      slot: r.slot,
      alreadyPresent: r.alreadyPresent,
      error: null,
    };
  } catch (err) {
    if (!isDeviceError(err)) throw err;
    const status =
      err.code === "SLOTS_FULL"
        ? DEPOSIT_STATUS.deviceFull
        : err.code === "KEY_ID_CONFLICT"
          ? DEPOSIT_STATUS.alreadyExists
          : err.code === "WRAPPED_KEY_INVALID" || err.code === "WRAPPED_KEY_UNWRAP_FAILED"
            ? DEPOSIT_STATUS.badRequest
            : DEPOSIT_STATUS.failed;
    return { ...refused(status, err.code, err.message), carrier, kid: wrapped.kid };
  }
}
