import {
  decodeEvidence,
  type EvidenceClaims,
  orderReasons,
  type ReasonCode,
} from "../../evidence/index.js";
import type { PartStore } from "../../store/index.js";
import type { EnterpriseContext } from "../context.js";
import {
  type IssuedDmAccount,
  issue,
  type StoredDmAccount,
  storeNewAccount,
} from "../dm/credentials.js";
import { EnterpriseError } from "../errors.js";
import { eligibilityReasons } from "../policy/eligibility.js";
import { checkUpstreamVerdict } from "../upstream/check-verdict.js";
import { type IntegrityAnswer, upstreamFor, upstreamVerify } from "../upstream/forward.js";

/** The answer to `POST /enterprises/{id}/activation/evidence` (the carrier's shape, plus). */
export interface EnterpriseActivation {
  /** The integrity verdict for the device's TSZ, signed by the carrier or the platform. */
  verdict: string;
  /** The MDAS's decision: integrity and eligibility. */
  decision: "approved" | "denied";
  reasons: ReasonCode[];
  networkAccess: "full" | "limited";
  carrier: string;
  imei: string;
  nonce: string;
  enterprise: string;
  via: string;
  /** What the carrier server or the platform said, before the MDAS's own policy. */
  integrity: { by: string; decision: "approved" | "denied"; reasons: ReasonCode[] };
  /** The enterprise DM account (approved and eligible only), for its group content. */
  dmAccount: IssuedDmAccount | null;
}

/**
 * Reasons after which the evidence says nothing believable about the enrolled device (not
 * attested, not fresh, another key): the MDAS then records the decision but changes no state,
 * so a counterfeit or a replay presenting a genuine IMEI cannot lower that device's access.
 */
const UNTRUSTED = new Set<ReasonCode>([
  "ATTESTATION_INVALID",
  "CLONE_SUSPECTED",
  "KEY_PROOF_INVALID",
  "NONCE_REPLAYED",
  "NONCE_EXPIRED",
  "UNKNOWN_DEVICE",
]);

/**
 * Patent method 2 at the MDAS: the evidence goes unchanged to the carrier server or the
 * platform (the MDAS reads only the carrier it names and the model; it never sees key material),
 * then the MDAS's eligibility (enrolled, model, group). Approved and eligible: a DM account for
 * the group content; otherwise limited access. One decision per nonce, audited.
 */
export async function activateViaEnterprise(
  ctx: EnterpriseContext,
  evidence: string,
  dmServerUri: string,
): Promise<EnterpriseActivation> {
  // Read only, never trusted here: the upstream verifies the evidence and signs what it says.
  const { claims, evidenceHash } = decodeEvidence(
    evidence,
    (message, details) => new EnterpriseError("EVIDENCE_MALFORMED", message, details),
  );
  const carrier = claims.carrier ?? ctx.defaultCarrier;
  const integrity = await upstreamVerify(ctx, carrier ?? "", evidence);
  await believeVerdict(ctx, carrier!, claims, integrity, evidenceHash);
  const imei = integrity.imei;
  const enrolment = await ctx.part.enrolment.get(imei);
  const trusted = !integrity.reasons.some((r) => UNTRUSTED.has(r));
  // Evidence that fails attestation learns nothing of the enrolment list either
  // (withholdUnattested): else anyone could name an IMEI and read whether it is enrolled.
  const eligibility = integrity.reasons.includes("ATTESTATION_INVALID")
    ? []
    : eligibilityReasons(ctx.policy, enrolment, claims.model);
  const reasons = orderReasons([...integrity.reasons, ...eligibility]);
  const decision = reasons.length === 0 ? "approved" : "denied";
  const now = ctx.now();

  const account = await ctx.part.transaction(async (tx) => {
    // settle reads the device's row, then creates or changes it: one at a time per device.
    await tx.lockSubject(imei);
    return settle(ctx, tx, {
      integrity,
      imei,
      decision,
      reasons,
      eligibility,
      trusted,
      evidenceHash,
      now,
      group: enrolment?.userGroup ?? null,
    });
  });
  return {
    verdict: integrity.verdict,
    decision,
    reasons,
    networkAccess: decision === "approved" && account ? "full" : "limited",
    carrier: carrier!,
    imei,
    nonce: integrity.nonce,
    enterprise: ctx.id,
    via: `enterprise:${ctx.id}`,
    integrity: { by: integrity.by, decision: integrity.decision, reasons: integrity.reasons },
    dmAccount: account ? await issue(ctx, account, dmServerUri) : null,
  };
}

/**
 * Acts on the upstream's answer only when its signed verdict is the upstream's and answers this
 * evidence (check-verdict.ts); otherwise VERDICT_INVALID, audited, and no state changes.
 */
async function believeVerdict(
  ctx: EnterpriseContext,
  carrier: string,
  claims: Pick<EvidenceClaims, "eat_nonce" | "imei">,
  integrity: IntegrityAnswer,
  evidenceHash: string,
): Promise<void> {
  const forwarded = { nonce: claims.eat_nonce, imei: claims.imei };
  const problem = await checkUpstreamVerdict(
    ctx,
    upstreamFor(ctx, carrier),
    carrier,
    forwarded,
    integrity,
  );
  if (problem === null) return;
  await ctx.part.audit.append(
    {
      actor: ctx.owner,
      action: "activation-refused",
      subject: claims.imei,
      details: {
        why: `upstream verdict: ${problem}`,
        by: integrity.by,
        nonce: forwarded.nonce,
        evidenceHash,
      },
    },
    ctx.now(),
  );
  throw new EnterpriseError(
    "VERDICT_INVALID",
    `the ${integrity.by} verdict is not valid for this activation (${problem})`,
    { why: problem },
  );
}

async function settle(
  ctx: EnterpriseContext,
  tx: PartStore,
  d: {
    integrity: IntegrityAnswer;
    imei: string;
    decision: "approved" | "denied";
    reasons: ReasonCode[];
    eligibility: ReasonCode[];
    trusted: boolean;
    evidenceHash: string;
    now: number;
    group: string | null;
  },
): Promise<StoredDmAccount | null> {
  let account: StoredDmAccount | null = null;
  let recorded: { created: boolean; id: string } | null = null;
  if (d.trusted) {
    const r = await tx.verdicts.record(
      {
        nonce: d.integrity.nonce,
        imei: d.imei,
        verdict: d.decision,
        reasons: d.reasons,
        evidenceHash: d.evidenceHash,
        signed: d.integrity.verdict,
      },
      d.now,
    );
    recorded = { created: r.created, id: r.verdict.id };
  }
  if (recorded?.created) {
    const approved = d.decision === "approved";
    account = approved ? await storeNewAccount(ctx, tx, d.imei, recorded.id, d.now) : null;
    const patch = {
      state: approved ? ("approved" as const) : ("denied" as const),
      verdictId: recorded.id,
      dmCredentialsRef: account ? `kv:dm-accounts/${d.imei}` : null,
      profile: null,
    };
    if (await tx.devices.status(d.imei)) await tx.devices.update(d.imei, patch, { now: d.now });
    else await tx.devices.create({ imei: d.imei, ...patch }, d.now);
    // Full once the group content is provisioned (dm/); until then, and when denied, limited.
    await tx.access.set(d.imei, "limited", d.now);
  }
  await tx.audit.append(
    {
      actor: ctx.owner,
      action: "activation",
      subject: d.imei,
      details: {
        verdict: d.decision,
        reasons: d.reasons,
        integrity: {
          by: d.integrity.by,
          decision: d.integrity.decision,
          reasons: d.integrity.reasons,
        },
        eligibility: d.eligibility,
        userGroup: d.group,
        stateChanged: recorded?.created ?? false,
        evidenceHash: d.evidenceHash,
      },
    },
    d.now,
  );
  return account;
}
