import { IdentityError } from "./errors.js";
import { parseEsn, pseudoEsn } from "./esn.js";
import { parseImei } from "./imei.js";
import { parseMeid } from "./meid.js";
import { findModel } from "./tac.js";

/**
 * Step 1 of the verification application (DESIGN.md, initial activation): the equipment
 * identity checked against the predefined rules. Reason codes are CONTRACT.md's.
 */
export type IdentityReason = "IDENTITY_MALFORMED" | "IDENTITY_MISMATCH" | "IDENTITY_MODEL";

export interface IdentityClaims {
  /** The IMEI fused in the trusted security zone: the one that is judged. */
  imei: string;
  meid?: string | null | undefined;
  esn?: string | null | undefined;
  model: string;
  /**
   * The IMEI the normal world reports. Only compared with `imei` (exact text): any difference,
   * including a malformed value, is `IDENTITY_MISMATCH`, never `IDENTITY_MALFORMED`.
   */
  reportedImei?: string | null | undefined;
}

export interface IdentityProblem {
  readonly reason: IdentityReason;
  readonly field: "imei" | "meid" | "esn" | "model" | "reportedImei";
  /** For logs and diagnostics; identifiers are not secrets. */
  readonly detail: string;
}

const ORDER: readonly IdentityReason[] = [
  "IDENTITY_MALFORMED",
  "IDENTITY_MISMATCH",
  "IDENTITY_MODEL",
];

function message(err: unknown): string {
  if (err instanceof IdentityError) return `${err.code}: ${err.message}`;
  throw err;
}

function present(v: string | null | undefined): v is string {
  return v !== undefined && v !== null;
}

/**
 * Every identity problem, in field order. Rules:
 * - `imei`, `meid`, `esn` that do not parse (format, length, check digit) → IDENTITY_MALFORMED;
 * - `esn` given with a well-formed `meid` and not the MEID's pseudo-ESN → IDENTITY_MISMATCH;
 * - `reportedImei` given and not equal to `imei` → IDENTITY_MISMATCH;
 * - `model` not in the TAC table, a well-formed IMEI whose TAC is not one of the model's, a CDMA
 *   model without an MEID, or a non-CDMA model with an MEID or ESN → IDENTITY_MODEL.
 *   A malformed IMEI is not also judged against the model.
 */
export function identityProblems(claims: IdentityClaims): IdentityProblem[] {
  const problems: IdentityProblem[] = [];
  let tac: string | undefined;
  try {
    tac = parseImei(claims.imei).tac;
  } catch (err) {
    problems.push({ reason: "IDENTITY_MALFORMED", field: "imei", detail: message(err) });
  }

  let meid: string | undefined;
  if (present(claims.meid)) {
    try {
      meid = parseMeid(claims.meid).meid;
    } catch (err) {
      problems.push({ reason: "IDENTITY_MALFORMED", field: "meid", detail: message(err) });
    }
  }

  if (present(claims.esn)) {
    try {
      const esn = parseEsn(claims.esn).esn;
      if (meid !== undefined) {
        const expected = pseudoEsn(meid);
        if (esn !== expected) {
          problems.push({
            reason: "IDENTITY_MISMATCH",
            field: "esn",
            detail: `ESN ${esn} is not the pseudo-ESN ${expected} of MEID ${meid}`,
          });
        }
      }
    } catch (err) {
      problems.push({ reason: "IDENTITY_MALFORMED", field: "esn", detail: message(err) });
    }
  }

  if (present(claims.reportedImei) && claims.reportedImei !== claims.imei) {
    problems.push({
      reason: "IDENTITY_MISMATCH",
      field: "reportedImei",
      detail: "the IMEI the normal world reports differs from the IMEI in the secure zone",
    });
  }

  const model = typeof claims.model === "string" ? findModel(claims.model) : undefined;
  if (!model) {
    problems.push({
      reason: "IDENTITY_MODEL",
      field: "model",
      detail: "device model is not in the TAC table",
    });
  } else {
    if (tac !== undefined && !model.tacs.includes(tac)) {
      problems.push({
        reason: "IDENTITY_MODEL",
        field: "imei",
        detail: `TAC ${tac} is not allocated to model ${model.name}`,
      });
    }
    if (model.cdma && !present(claims.meid)) {
      problems.push({
        reason: "IDENTITY_MODEL",
        field: "meid",
        detail: `model ${model.name} is CDMA and has no MEID`,
      });
    }
    if (!model.cdma && (present(claims.meid) || present(claims.esn))) {
      problems.push({
        reason: "IDENTITY_MODEL",
        field: present(claims.meid) ? "meid" : "esn",
        detail: `model ${model.name} is not CDMA but has an MEID or ESN`,
      });
    }
  }
  return problems;
}

/** The distinct reason codes of {@link identityProblems}, in CONTRACT.md order; empty = clean. */
export function checkIdentity(claims: IdentityClaims): IdentityReason[] {
  const found = new Set(identityProblems(claims).map((p) => p.reason));
  return ORDER.filter((r) => found.has(r));
}
