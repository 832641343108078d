/**
 * The crypto every activation needs, whatever the rest of the code costs, in CPU time on this
 * process's one thread, with the project's own code: the phone signs its evidence
 * (src/device/tsz/evidence.ts); the carrier checks the evidence's signature and certificate
 * chain (src/evidence/attestation.ts, without its chain cache: most phones activate once) and
 * signs the verdict (ES256, as the keystore does); the phone verifies that verdict
 * (src/evidence/compact-jws.ts). Together with the bare HTTP requests an activation makes, this
 * is a floor under CPU per activation, so it bounds activations/s on this machine's cores.
 */
import { generateKeyPairSync, sign } from "node:crypto";
import { VERDICT_TYP } from "../../src/carrier/index.js";
import { buildEvidenceClaims, signEvidence } from "../../src/device/tsz/evidence.js";
import {
  decodeCompactJws,
  loadTrustAnchors,
  MAX_VERDICT_CHARS,
  type VerdictClaims,
  verifyAttestation,
  verifyCompactJws,
} from "../../src/evidence/index.js";
import { cleanResult } from "./lean-device.js";
import type { LeanDevice } from "./lean-factory.js";

export interface CryptoFloor {
  /** ms per activation, by step. */
  evidenceSign: number;
  attestation: number;
  verdictSign: number;
  verdictVerify: number;
  total: number;
}

/**
 * CPU ms per call of `op`: the least of three rounds' means over `n` calls, after `n / 10`
 * unmeasured ones. CPU time, like the bench's per-activation figures, so that a busy or shared
 * machine does not inflate it; the least round, so that a collection of this process's large
 * heap (the fleet) does not either: a floor should not be overstated.
 */
async function cpuMs(n: number, op: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < n / 10; i++) await op(i);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < n; i++) await op(i);
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1000 / n);
  }
  return best;
}

/** Times each step over up to `n` of the fleet's phones (one evidence each). */
export async function cryptoFloor(
  devices: readonly LeanDevice[],
  oemCaPem: string,
  n = 1000,
): Promise<CryptoFloor> {
  const count = Math.min(n, devices.length);
  const nonce = "A".repeat(43);
  const evidences: string[] = [];
  const evidenceSign = await cpuMs(count, async (i) => {
    const d = devices[i % count]!;
    const claims = buildEvidenceClaims(d.state, cleanResult(), nonce, 0);
    evidences[i % count] = await signEvidence(
      claims,
      d.signingKey,
      d.certificateDer,
      d.state.slots[0]!.key,
    );
  });
  const anchors = loadTrustAnchors([oemCaPem]);
  const now = new Date();
  const attestation = await cpuMs(count, async (i) => {
    // A new anchor list each time: the chain cache is kept per list, so every check is a miss.
    const r = await verifyAttestation(evidences[i % count]!, [...anchors], now);
    if (!r.ok) throw new Error(`floor: evidence ${i} did not verify: ${r.detail}`);
  });
  // A verdict's size: header and claims as the carrier signs them.
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const header = Buffer.from(JSON.stringify({ alg: "ES256", typ: VERDICT_TYP })).toString(
    "base64url",
  );
  const payload = Buffer.from(
    JSON.stringify({
      eat_nonce: nonce,
      imei: devices[0]!.state.imei,
      carrier: "acme",
      verdict: "approved",
      reasons: [],
      iat: Math.floor(Date.now() / 1000),
      networkAccess: "full",
      via: "carrier:acme",
    } satisfies VerdictClaims),
  ).toString("base64url");
  const input = Buffer.from(`${header}.${payload}`, "ascii");
  let signature = Buffer.alloc(0);
  const verdictSign = await cpuMs(count, () => {
    signature = sign("sha256", input, { key: privateKey, dsaEncoding: "ieee-p1363" });
  });
  const jws = `${header}.${payload}.${signature.toString("base64url")}`;
  const verdictVerify = await cpuMs(count, () => {
    const d = decodeCompactJws(jws, { maxChars: MAX_VERDICT_CHARS, algorithms: ["ES256"] });
    if (!d.ok || !verifyCompactJws(d.jws, publicKey).ok) throw new Error("floor: bad verdict");
  });
  return {
    evidenceSign,
    attestation,
    verdictSign,
    verdictVerify,
    total: evidenceSign + attestation + verdictSign + verdictVerify,
  };
}
