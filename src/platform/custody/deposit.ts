import { pemThumbprint } from "../../evidence/index.js";
import { isKeystoreError, type WrappedKey } from "../../keystore/index.js";
import type { PlatformContext } from "../context.js";
import { PlatformError } from "../errors.js";
import { type CustodyStatus, modifyRecord } from "./records.js";

/** What a carrier deposits: its device record, and the slot key wrapped to the platform. */
export interface DepositInput {
  meid?: string | null;
  esn?: string | null;
  model: string;
  kid: string;
  /** The device's attestation certificate or public key (PEM). */
  attestationKey: string;
  contractEnd?: string | null;
  status?: CustodyStatus;
  /** The slot key, HPKE-wrapped to `GET /platform/transport-key` for owner `carrier:<id>`. */
  wrappedKey: WrappedKey;
}

const RANK: Record<CustodyStatus, number> = { active: 0, blocked: 1, terminated: 2 };

/** The higher of the record's status and the one a deposit names. */
function raised(cur: CustodyStatus | undefined, given: CustodyStatus | undefined): CustodyStatus {
  const a = cur ?? "active";
  const b = given ?? a;
  return RANK[b] > RANK[a] ? b : a;
}

/** SHA-256 of the key's SPKI, base64url: what verifyAttestation reports for the device. */
function thumbprintOf(pem: string): string {
  try {
    return pemThumbprint(pem);
  } catch {
    throw new PlatformError(
      "DEPOSIT_INVALID",
      "attestationKey is not a P-256 certificate or key (PEM)",
    );
  }
}

/**
 * Takes custody of one device of `carrierId`: the wrapped slot key is imported into the
 * platform keystore under the carrier's KEK (it opens only there: HPKE to the platform's
 * transport key, bound to the owner and kid), then the sealed record is stored. Both steps are
 * idempotent, so a retried deposit after a crash completes exactly once.
 */
export async function depositDevice(
  ctx: PlatformContext,
  carrierId: string,
  imei: string,
  input: DepositInput,
  tokenId: string | null = null,
): Promise<{ imei: string; kid: string; status: CustodyStatus }> {
  const thumbprint = thumbprintOf(input.attestationKey);
  if (input.wrappedKey.kid !== input.kid || input.wrappedKey.owner !== `carrier:${carrierId}`) {
    throw new PlatformError("DEPOSIT_INVALID", "the wrapped key must be this carrier's key `kid`");
  }
  try {
    await ctx.keystore.forOwner(`carrier:${carrierId}`).importDeviceKey(input.wrappedKey);
  } catch (err) {
    if (isKeystoreError(err, "KEY_EXISTS")) {
      throw new PlatformError("CONFLICT", "that kid already names another key of this carrier");
    }
    if (isKeystoreError(err) && (err.code === "UNWRAP_FAILED" || err.code === "BAD_REQUEST")) {
      throw new PlatformError("DEPOSIT_INVALID", "the wrapped key does not open for the platform");
    }
    throw err;
  }
  // Against the record as it stands when written: a block or sync event landing while this
  // deposit was in flight is kept, not overwritten with what was read before it.
  const { prior, next } = await modifyRecord(ctx, carrierId, imei, (cur) => ({
    imei,
    meid: input.meid ?? null,
    esn: input.esn ?? null,
    model: input.model,
    kid: input.kid,
    attestationThumbprint: thumbprint,
    contractEnd: input.contractEnd ?? null,
    // A re-deposit never clears a block or a termination (as inventory re-imports do not):
    // it may only raise the record's status.
    status: raised(cur?.status, input.status),
    // Nor forgets the activation date or the sync version (a late event must stay late).
    activatedAt: cur?.activatedAt ?? null,
    ...(cur?.syncVersion === undefined ? {} : { syncVersion: cur.syncVersion }),
    updatedAt: ctx.now(),
  }));
  const rec = next!;
  await ctx.part.audit.append(
    {
      actor: `carrier:${carrierId}`,
      action: "custody-deposit",
      subject: imei,
      details: { kid: rec.kid, status: rec.status, replaced: prior !== null, tokenId },
    },
    ctx.now(),
  );
  return { imei, kid: rec.kid, status: rec.status };
}

/** A carrier's mark on its own device (block, unblock, terminate, contract end). */
export async function updateDevice(
  ctx: PlatformContext,
  carrierId: string,
  imei: string,
  patch: { status?: CustodyStatus; contractEnd?: string | null },
  tokenId: string | null = null,
): Promise<{ imei: string; status: CustodyStatus } | null> {
  const { next } = await modifyRecord(ctx, carrierId, imei, (rec) => {
    if (
      rec?.status === "terminated" &&
      patch.status !== undefined &&
      patch.status !== "terminated"
    ) {
      throw new PlatformError("CONFLICT", "the device is terminated; termination is final");
    }
    return rec
      ? {
          ...rec,
          ...(patch.status ? { status: patch.status } : {}),
          ...(patch.contractEnd !== undefined ? { contractEnd: patch.contractEnd } : {}),
          updatedAt: ctx.now(),
        }
      : undefined;
  });
  if (!next) return null;
  await ctx.part.audit.append(
    {
      actor: `carrier:${carrierId}`,
      action: "custody-update",
      subject: imei,
      details: { status: next.status, contractEnd: next.contractEnd, tokenId },
    },
    ctx.now(),
  );
  return { imei, status: next.status };
}
