import { createHash } from "node:crypto";
import {
  addDeviceReasons,
  checkAttestation,
  isReasonCode,
  orderReasons,
  withholdUnattested,
} from "../../evidence/index.js";
import { crashPoint } from "../../fault/crash-point.js";
import type { ActivationResult } from "../activation/judge-evidence.js";
import type { CarrierContext } from "../context.js";
import { issuedAccount, newAccount, storeDmAccount } from "../dm/credentials.js";
import { CarrierError } from "../errors.js";
import { signAndRecordVerdict, signVerdictFor } from "../verdict/record-verdict.js";
import { checkNonce } from "../verify/steps/check-nonce.js";
import { decodeEvidence } from "../verify/steps/decode-evidence.js";
import { askCarrier, MigrationPlatform } from "./platform-client.js";
import { getMigration, type MigrationRow, putMigration } from "./rows.js";

/**
 * The new carrier B's answer to migration evidence (src/carrier/README.md "Migration"), as named
 * steps:
 * 1. shape: evidence asking to move to B (`migrateTo`, with the TSZ's HPKE key), proving another
 *    carrier A's slot;
 * 2. attestation (OEM chain, signature): the HPKE key is the attested TSZ's;
 * 3. B's own records: a device B has blocked, terminated, or seen with another attestation key;
 * 4. the device's own reasons (tampering);
 * 5. B's nonce, consumed once (its own transaction: a replay is NONCE_REPLAYED); a device B
 *    already holds its own key on is refused there (CONFLICT), before anyone is asked;
 * 6. the platform (or A itself, `migration.direct`): genuine (slot A's proof, checked with A's
 *    key), blocked, terminated, subsidy-locked under A's policy;
 * 7. the verdict signed (`purpose: "migration"`), then one transaction: the verdict recorded, and
 *    on approval the migration row (the new key, wrapped to the TSZ) and the DM account for the
 *    session that delivers it.
 * A refusal writes only the verdict and the audit entry: B's inventory does not know the device.
 *
 * Crash points: `carrier.migration.after-nonce`, `carrier.migration.after-key` (key made, no
 * row), `carrier.migration.after-commit` (row and verdict written, not yet answered).
 */
export async function judgeMigration(
  ctx: CarrierContext,
  evidence: string,
  dmServerUri: string,
): Promise<ActivationResult> {
  const j = decodeEvidence(evidence);
  const c = j.claims;
  if (c.migrateTo === undefined || c.hpke === undefined) {
    throw new CarrierError(
      "EVIDENCE_MALFORMED",
      "this is not migration evidence (no migrateTo and hpke claims)",
    );
  }
  if (c.migrateTo !== ctx.id) {
    throw new CarrierError(
      "EVIDENCE_MALFORMED",
      `the evidence asks to migrate to ${c.migrateTo}, not to ${ctx.id}`,
    );
  }
  if (c.carrier === null || c.carrier === ctx.id) {
    throw new CarrierError(
      "EVIDENCE_MALFORMED",
      "migration evidence must prove the key of the carrier the device leaves",
    );
  }
  // Whom to ask about A's device: A itself when configured so, else the platform.
  const direct = ctx.migration.direct?.[c.carrier];
  if (!direct && !ctx.migration.platform) {
    throw new CarrierError(
      "UNAVAILABLE",
      "this carrier has no platform configured to ask about migrating devices",
    );
  }
  const platform = ctx.migration.platform ? new MigrationPlatform(ctx.migration.platform) : null;
  const now = ctx.now();
  const attestation = await checkAttestation(j, ctx.anchors, now);

  // B's own marks: it may know the device already (blocked, or a clone's other key).
  const [inv, dev, prior] = await Promise.all([
    ctx.part.inventory.get(c.imei),
    ctx.part.devices.status(c.imei),
    getMigration(ctx.part, c.imei),
  ]);
  if (inv?.status === "blocked") j.reasons.add("DEVICE_BLOCKED");
  if (inv?.status === "terminated" || dev?.state === "terminated") {
    j.reasons.add("DEVICE_TERMINATED");
  }
  const bound = inv?.attestationThumbprint ?? dev?.attestationThumbprint ?? null;
  if (j.attested && bound !== null && bound !== j.attestationThumbprint) {
    j.reasons.add("CLONE_SUSPECTED");
  }
  addDeviceReasons(j);

  const reusable =
    prior !== null &&
    prior.state !== "failed" &&
    prior.hpke === c.hpke &&
    prior.attestationThumbprint === j.attestationThumbprint;
  // B made this device's key some other way (at manufacture): a second B key would mean two
  // slots for B. The device activates with B instead.
  const conflict =
    !reusable &&
    j.attested &&
    inv !== null &&
    inv.attestationThumbprint === j.attestationThumbprint;
  await ctx.part.transaction(async (tx) => {
    await checkNonce(j, tx, now);
    // Only where it would otherwise be approved as far as B knows (a replay, a stale nonce or
    // B's own marks keep their denied verdict). Thrown inside the transaction, so its rollback
    // leaves the nonce unused, and before the platform or A is asked.
    if (conflict && j.nonceFresh && j.reasons.size === 0) {
      throw new CarrierError(
        "CONFLICT",
        `the device already holds a key of ${ctx.id} (kid ${inv.kid}): activate with ${ctx.id} instead of migrating`,
      );
    }
  });
  crashPoint("carrier.migration.after-nonce");

  // The platform is asked only about a fresh, attested request: a replay learns nothing.
  if (j.attested && j.nonceFresh) {
    const answer = direct
      ? await askCarrier(direct, c.carrier, evidence)
      : await (platform as MigrationPlatform).ask(evidence);
    for (const r of answer.reasons) if (isReasonCode(r)) j.reasons.add(r);
    if (!answer.genuine && answer.reasons.length === 0) j.reasons.add("UNKNOWN_DEVICE");
  }
  withholdUnattested(j);
  const reasons = orderReasons(j.reasons);
  const approved = reasons.length === 0 && j.nonceFresh;

  let key: Pick<MigrationRow, "kid" | "wrapped" | "custodyWrapped"> | null = null;
  if (approved) {
    key = reusable ? prior : await newKey(ctx, platform, c.imei, c.hpke, j.attestationThumbprint!);
    crashPoint("carrier.migration.after-key");
  }

  // Signed before the transaction, its reasons being settled: on SQLite the transaction holds
  // the one connection every request shares, and must not hold it across the keystore's round
  // trip (judge-evidence.ts says what that cost).
  const signed = await signVerdictFor(ctx, c, { approved, reasons }, now, "migration");
  const settled = await ctx.part.transaction(async (tx) => {
    const { jws, verdictId } = await signAndRecordVerdict(ctx, tx, j, { approved, reasons }, now, {
      // The carrier the device leaves (or the platform for it) answered for the IMEI.
      known: !j.reasons.has("UNKNOWN_DEVICE"),
      signed,
    });
    let account = null;
    if (approved && key && verdictId) {
      const row: MigrationRow = {
        imei: c.imei,
        from: c.carrier as string,
        state: reusable && prior ? prior.state : "pending",
        kid: key.kid,
        wrapped: key.wrapped,
        custodyWrapped: key.custodyWrapped,
        hpke: c.hpke as string,
        attestationThumbprint: j.attestationThumbprint as string,
        attestationKey: j.certificatePem as string,
        model: c.model,
        meid: c.meid,
        esn: c.esn,
        evidence,
        verdictId,
        failure: null,
        awaitingSession: true,
        custodyDeposited: reusable && prior ? prior.custodyDeposited : false,
        sourceNotified: reusable && prior ? prior.sourceNotified : false,
        createdAt: reusable && prior ? prior.createdAt : now,
        updatedAt: now,
      };
      await putMigration(tx, row, now);
      account = newAccount(c.imei, verdictId, ctx.dmServerId);
      await storeDmAccount(tx, account, now);
    }
    await tx.audit.append(
      {
        actor: ctx.owner,
        action: "migration-verdict",
        subject: c.imei,
        details: {
          from: c.carrier,
          verdict: approved ? "approved" : "denied",
          reasons,
          nonceFresh: j.nonceFresh,
          verdictId,
          evidenceHash: j.evidenceHash,
          attestation: attestation ?? "ok",
          kid: key?.kid ?? null,
          retry: approved && reusable,
        },
      },
      now,
    );
    return { jws, account };
  });
  crashPoint("carrier.migration.after-commit");

  const dmAccount = settled.account
    ? await issuedAccount(ctx.keys, settled.account, dmServerUri)
    : null;
  return {
    verdict: settled.jws,
    decision: approved ? "approved" : "denied",
    reasons,
    networkAccess: approved ? "full" : "limited",
    carrier: ctx.id,
    imei: c.imei,
    nonce: c.eat_nonce,
    dmAccount,
  };
}

/**
 * A new key for the device, made in B's keystore and wrapped to the attested TSZ (and to the
 * platform's transport key, for B's custody there). Its id is derived from the device and its
 * TSZ key, so a crash before the row is written makes the same key again on retry.
 */
async function newKey(
  ctx: CarrierContext,
  platform: MigrationPlatform | null,
  imei: string,
  hpke: string,
  thumbprint: string,
): Promise<Pick<MigrationRow, "kid" | "wrapped" | "custodyWrapped">> {
  const kid = createHash("sha256")
    .update(`dmguard migration|${ctx.id}|${imei}|${hpke}|${thumbprint}`)
    .digest("hex")
    .slice(0, 32);
  // Without a platform, no custody copy: the key stays in B's keystore and the TSZ only.
  const custody = platform ? await platform.transportKey() : null;
  const created = await ctx.keys.createDeviceKey(new Uint8Array(Buffer.from(hpke, "base64url")), {
    kid,
    ...(custody ? { custody: custody as never } : {}),
  });
  return { kid, wrapped: created.wrapped, custodyWrapped: created.custodyWrapped ?? null };
}
