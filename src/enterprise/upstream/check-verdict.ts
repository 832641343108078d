import { compactVerify, decodeProtectedHeader, errors, importJWK, type JWK } from "jose";
import { parseVerdictClaims, type VerdictClaims } from "../../evidence/index.js";
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

const MAX_VERDICT_CHARS = 16 * 1024;

/** The JWS algorithm of an upstream's verdict key (RFC 7518 §3.4, RFC 8037 §3.1). */
function algorithmOf(jwk: JWK): "ES256" | "EdDSA" | null {
  if (jwk.kty === "EC" && jwk.crv === "P-256") return "ES256";
  if (jwk.kty === "OKP" && jwk.crv === "Ed25519") return "EdDSA";
  return null;
}

/**
 * Imported keys, by the JWK object they came from: importing costs more than verifying, and an
 * upstream's JWK objects never change (pinned in the config, or held by verdict-key.ts until a
 * re-fetch replaces the object).
 */
const imported = new WeakMap<JWK, Promise<Awaited<ReturnType<typeof importJWK>>>>();

function keyOf(jwk: JWK, alg: "ES256" | "EdDSA") {
  let key = imported.get(jwk);
  if (!key) {
    key = importJWK(jwk, alg);
    // A JWK that does not import is not kept: the next call reports it again.
    key.catch(() => imported.delete(jwk));
    imported.set(jwk, key);
  }
  return key;
}

async function verifyUnder(
  jws: string,
  jwk: JWK,
): Promise<{ claims: VerdictClaims } | { problem: VerdictProblem }> {
  const alg = algorithmOf(jwk);
  if (alg === null || jws.length > MAX_VERDICT_CHARS) return { problem: "malformed" };
  try {
    if (decodeProtectedHeader(jws).alg !== alg) return { problem: "signature" };
    const { payload } = await compactVerify(jws, await keyOf(jwk, alg), { algorithms: [alg] });
    const claims = parseVerdictClaims(JSON.parse(Buffer.from(payload).toString("utf8")));
    return typeof claims === "string" ? { problem: "malformed" } : { claims };
  } catch (err) {
    return {
      problem: err instanceof errors.JWSSignatureVerificationFailed ? "signature" : "malformed",
    };
  }
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
  let r = await verifyUnder(answer.verdict, key.jwk);
  if ("problem" in r && r.problem === "signature" && !key.pinned) {
    key = await ctx.verdictKeys.keyFor(ctx, u, carrier, true);
    r = await verifyUnder(answer.verdict, key.jwk);
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
