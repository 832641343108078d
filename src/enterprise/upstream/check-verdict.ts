import type { KeyObject } from "node:crypto";
import type { JWK } from "jose";
import {
  type CompactJwsProblem,
  decodeCompactJws,
  type JwsAlgorithm,
  jwsAlgorithmFor,
  jwsPublicKey,
  MAX_VERDICT_CHARS,
  parseVerdictClaims,
  type VerdictClaims,
  verifyCompactJws,
} from "../../evidence/index.js";
import type { EnterpriseContext } from "../context.js";
import type { Upstream } from "../options.js";
import type { IntegrityAnswer } from "./forward.js";

/** Why an upstream's signed verdict was not believed (the refusal's `details.why`). */
export type VerdictProblem =
  | "signature"
  | "malformed"
  | "carrier"
  | "nonce"
  | "imei"
  | "decision"
  | "reasons";

/** The one algorithm each kind of verdict key verifies. */
const ONLY: Record<JwsAlgorithm, readonly JwsAlgorithm[]> = { ES256: ["ES256"], EdDSA: ["EdDSA"] };

/**
 * An `alg` other than the key's, like a bad signature, may mean the upstream rotated its key:
 * a fetched key is fetched once more for either.
 */
const WHY: Record<CompactJwsProblem, VerdictProblem> = {
  shape: "malformed",
  header: "malformed",
  alg: "signature",
  crit: "malformed",
  "crit-invalid": "malformed",
  encoding: "malformed",
  signature: "signature",
  payload: "malformed",
  "payload-not-object": "malformed",
};

function verifyUnder(
  jws: string,
  jwk: JWK,
): { claims: VerdictClaims } | { problem: VerdictProblem } {
  const alg = jwsAlgorithmFor(jwk);
  if (alg === null) return { problem: "malformed" };
  const decoded = decodeCompactJws(jws, { maxChars: MAX_VERDICT_CHARS, algorithms: ONLY[alg] });
  if (!decoded.ok) return { problem: WHY[decoded.problem] };
  let key: KeyObject;
  try {
    key = jwsPublicKey(jwk);
  } catch {
    // A key that does not import (private members, key_ops that forbid verifying).
    return { problem: "malformed" };
  }
  const verified = verifyCompactJws(decoded.jws, key);
  if (!verified.ok) return { problem: WHY[verified.problem] };
  const claims = parseVerdictClaims(verified.payload);
  return typeof claims === "string" ? { problem: "malformed" } : { claims };
}

/**
 * The MDAS believes an upstream's answer only when its signed verdict verifies under that
 * upstream's verdict key for the carrier (pinned, or fetched: verdict-key.ts) and binds what the
 * MDAS forwarded: the nonce and IMEI of the device's evidence, the carrier, and the decision
 * and reasons the answer states. A fetched key that fails is fetched once more (rotation).
 * Returns null when all holds, else what did not.
 */
export async function checkUpstreamVerdict(
  ctx: EnterpriseContext,
  u: Upstream,
  carrier: string,
  forwarded: { nonce: string; imei: string },
  answer: IntegrityAnswer,
): Promise<VerdictProblem | null> {
  let key = await ctx.verdictKeys.keyFor(ctx, u, carrier);
  let r = verifyUnder(answer.verdict, key.jwk);
  if ("problem" in r && r.problem === "signature" && !key.pinned) {
    key = await ctx.verdictKeys.keyFor(ctx, u, carrier, true);
    r = verifyUnder(answer.verdict, key.jwk);
  }
  if ("problem" in r) return r.problem;
  const c = r.claims;
  if (c.carrier !== carrier) return "carrier";
  if (c.eat_nonce !== forwarded.nonce || answer.nonce !== forwarded.nonce) return "nonce";
  if (c.imei !== forwarded.imei || answer.imei !== forwarded.imei) return "imei";
  if (c.verdict !== answer.decision) return "decision";
  const [signed, stated] = [[...c.reasons].sort(), [...answer.reasons].sort()];
  if (signed.length !== stated.length || signed.some((r, i) => r !== stated[i])) return "reasons";
  return null;
}
