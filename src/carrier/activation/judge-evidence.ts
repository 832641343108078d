import { performance } from "node:perf_hooks";
import {
  addDeviceReasons,
  checkAttestation,
  checkKeyProof,
  foreseeNonce,
  forkJudgement,
  orderReasons,
  type ReasonCode,
  sameReasons,
  withholdUnattested,
} from "../../evidence/index.js";
import { crashPoint } from "../../fault/crash-point.js";
import type { PartStore } from "../../store/index.js";
import type { CarrierContext } from "../context.js";
import {
  type IssuedDmAccount,
  issuedAccount,
  newAccount,
  type StoredDmAccount,
  storeDmAccount,
} from "../dm/credentials.js";
import { signAndRecordVerdict, signVerdictFor } from "../verdict/record-verdict.js";
import { type StateChange, stateChangeFor } from "../verdict/state-change.js";
import type { Judgement } from "../verify/judgement.js";
import { checkClone } from "../verify/steps/check-clone.js";
import { checkInventory } from "../verify/steps/check-inventory.js";
import { checkNonce } from "../verify/steps/check-nonce.js";
import { checkStatus } from "../verify/steps/check-status.js";
import { decodeEvidence } from "../verify/steps/decode-evidence.js";

/** The answer to `POST …/activation/evidence`. */
export interface ActivationResult {
  /** The signed verdict (compact JWS) for the device's TSZ. */
  verdict: string;
  decision: "approved" | "denied";
  reasons: ReasonCode[];
  networkAccess: "full" | "limited";
  carrier: string;
  imei: string;
  nonce: string;
  /** The DM account for the profile session; null when the verdict changed nothing. */
  dmAccount: IssuedDmAccount | null;
}

/**
 * DESIGN.md step 5 as a list of named steps (STYLE habit 4). The steps that need no lock run
 * first (attestation, inventory, key proof in the keystore); then one transaction consumes the
 * nonce, reads the device's state, records the verdict, changes state and appends to the audit
 * log, so a crash leaves either all of it or none.
 *
 * The verdict is signed before that transaction, for the reasons the store foresees then
 * (nonce peeked, not consumed), and the transaction uses that signature only if it reaches the
 * same reasons; otherwise it signs there. On SQLite the transaction holds the one connection
 * every request shares: with the keystore's round trip inside, it was held across a turn of a
 * busy event loop (over a millisecond), and that alone capped a carrier at a few hundred
 * activations a second whatever the cores.
 */
export async function judgeEvidence(
  ctx: CarrierContext,
  evidence: string,
  dmServerUri: string,
): Promise<ActivationResult> {
  const started = performance.now();
  const j = decodeEvidence(evidence);
  const now = ctx.now();
  const attestationProblem = await checkAttestation(j, ctx.anchors, now);
  await checkInventory(j, ctx.part);
  await checkKeyProof(j, ctx.keys, ctx.id, j.inventory);
  crashPoint("carrier.activation.evidence-checked");

  const presigned = await presign(ctx, j, now);
  const settled = await ctx.part.transaction(async (tx) => {
    // The device's rows are read below, then created or changed: on PostgreSQL two
    // activations of one new device would otherwise both create it (store/types.ts).
    await tx.lockSubject(j.claims.imei);
    await checkNonce(j, tx, now);
    // The inventory's marks may have changed since the first read (a block racing this).
    if (j.inventory) j.inventory = await tx.inventory.get(j.claims.imei);
    await checkClone(j, tx);
    checkStatus(j);
    addDeviceReasons(j);
    withholdUnattested(j);
    return settle(ctx, tx, j, now, attestationProblem, presigned);
  });
  crashPoint("carrier.activation.committed");

  const dmAccount = settled.account
    ? await issuedAccount(ctx.keys, settled.account, dmServerUri)
    : null;
  const decision = settled.reasons.length === 0 ? "approved" : "denied";
  // The activation date was queued in the transaction; deliver it now (src/carrier/README.md).
  if (settled.account && decision === "approved") ctx.platformSync?.kick();
  ctx.metrics.activations.inc({ carrier: ctx.id, verdict: decision });
  for (const r of settled.reasons) ctx.metrics.reasons.inc({ carrier: ctx.id, reason: r });
  ctx.metrics.activationSeconds.observe(
    { carrier: ctx.id, verdict: decision },
    (performance.now() - started) / 1000,
  );
  return {
    verdict: settled.jws,
    decision,
    reasons: settled.reasons,
    networkAccess: decision === "approved" ? "full" : "limited",
    carrier: ctx.id,
    imei: j.claims.imei,
    nonce: j.claims.eat_nonce,
    dmAccount,
  };
}

/** A verdict signed before its transaction, for the reasons foreseen then. */
interface PresignedVerdict {
  reasons: readonly ReasonCode[];
  jws: string;
}

/** The verdict the remaining steps foresee from the store as it is, signed. */
async function presign(ctx: CarrierContext, j: Judgement, now: number): Promise<PresignedVerdict> {
  const f = forkJudgement(j);
  await foreseeNonce(f, ctx.part.nonces, now);
  await checkClone(f, ctx.part);
  checkStatus(f);
  addDeviceReasons(f);
  withholdUnattested(f);
  const reasons = orderReasons(f.reasons);
  const jws = await signVerdictFor(ctx, j.claims, { approved: reasons.length === 0, reasons }, now);
  return { reasons, jws };
}

async function settle(
  ctx: CarrierContext,
  tx: PartStore,
  j: Judgement,
  now: number,
  attestationProblem: string | null,
  presigned: PresignedVerdict,
): Promise<{ jws: string; reasons: ReasonCode[]; account: StoredDmAccount | null }> {
  const reasons = orderReasons(j.reasons);
  const approved = reasons.length === 0;
  const imei = j.claims.imei;
  // The foreseen verdict stands if the transaction judged alike; otherwise it is signed anew.
  const signed = sameReasons(reasons, presigned.reasons) ? presigned.jws : undefined;
  const { jws, verdictId } = await signAndRecordVerdict(ctx, tx, j, { approved, reasons }, now, {
    known: j.inventory !== null,
    signed,
  });
  const change = stateChangeFor(j);
  const account = verdictId ? await applyChange(ctx, tx, j, change, verdictId, now) : null;
  crashPoint("carrier.activation.verdict-recorded");
  // Last: the audit append holds the chain's lock until commit.
  await tx.audit.append(
    {
      actor: ctx.owner,
      action: "verdict",
      subject: imei,
      details: {
        verdict: approved ? "approved" : "denied",
        reasons,
        nonceFresh: j.nonceFresh,
        verdictId,
        evidenceHash: j.evidenceHash,
        stateChange: change.kind === "none" ? `none (${change.why})` : change.kind,
        attestation: attestationProblem ?? "ok",
      },
    },
    now,
  );
  return { jws, reasons, account };
}

async function applyChange(
  ctx: CarrierContext,
  tx: PartStore,
  j: Judgement,
  change: StateChange,
  verdictId: string,
  now: number,
): Promise<StoredDmAccount | null> {
  if (change.kind === "none") return null;
  const imei = j.claims.imei;
  const account = newAccount(imei, verdictId, ctx.dmServerId);
  const ref = await storeDmAccount(tx, account, now);
  const patch = {
    state: change.kind === "approve" ? ("approved" as const) : ("denied" as const),
    attestationThumbprint: j.attestationThumbprint,
    dmCredentialsRef: ref,
    verdictId,
    profile: null,
  };
  if (j.device) await tx.devices.update(imei, patch, { now });
  else await tx.devices.create({ imei, ...patch }, now);
  // Approved: full access once the profile is provisioned (dm/); until then, limited.
  await tx.access.set(imei, "limited", now);
  if (change.kind === "approve") await ctx.platformSync?.queueActivated(tx, imei, now);
  return account;
}
