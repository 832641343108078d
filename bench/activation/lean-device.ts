/**
 * The load generator's phone: the device TSZ's state held in memory (no DEVDIR, no worker, no
 * sealed files), made at the OEM's factory line as `device manufacture` makes one (an
 * attestation key certified by the stack's OEM CA through a PKCS#10 request; slot 0's key made
 * in the carrier's keystore and opened here from its HPKE wrapping; every verdict key pinned),
 * then activated with the device's own code: evidence claims, ES256 signature and key proof
 * from src/device/tsz/evidence.ts, the verdict check from src/device/tsz/verdict.ts, and an
 * OMA DM session of the omadm client engine on a tree set up as the device's DM client sets
 * one up (src/device/normal), asserting the profile MO arrived.
 *
 * What it does not do is the verification application's file reads: a clean phone's
 * measurements are its reference values, so it reports those.
 */
import { randomBytes } from "node:crypto";
import type { JWK } from "jose";
import { installDmAccount, readTreeAccount } from "../../src/device/normal/dm-account.js";
import { grantVendor } from "../../src/device/normal/dm-bootstrap.js";
import { profileFromTree } from "../../src/device/normal/dm-profile.js";
import { triggerAlertItem } from "../../src/device/normal/dm-triggers.js";
import { issueDeviceCertificate, type OemCa } from "../../src/device/oem-ca.js";
import {
  attestationCsr,
  certificateForKey,
  exportPrivateJwk,
  generateAttestationKey,
  importSigningKey,
} from "../../src/device/tsz/attestation-key.js";
import { buildEvidenceClaims, signEvidence } from "../../src/device/tsz/evidence.js";
import { HPKE_SEED_BYTES, type TszState } from "../../src/device/tsz/state.js";
import { checkVerdict, pinKey } from "../../src/device/tsz/verdict.js";
import type { VerificationResult } from "../../src/device/tsz/verification.js";
import type { CryptoKey } from "../../src/device/webcrypto-types.js";
import { deriveRecipientKeyPair, openWrappedKey } from "../../src/keystore/hpke-recipient.js";
import type { WrappedKey } from "../../src/keystore/index.js";
import { DmClient } from "../../src/omadm/session/client.js";
import { DmTree } from "../../src/omadm/tree/dm-tree.js";
import {
  mountDevDetail,
  mountDevInfo,
  mountDmAcc,
  updateDmAccountNonces,
} from "../../src/omadm/tree/index.js";
import type { BenchHttp } from "./http-client.js";

export interface LeanDevice {
  readonly state: TszState;
  readonly signingKey: CryptoKey;
  readonly certificateDer: string;
  readonly kid: string;
  readonly certificatePem: string;
}

/** The carrier calls a factory line needs (the stack's CarrierAdmin has them). */
export interface FactoryCarrier {
  readonly id: string;
  slotKey(hpkePublicKey: Uint8Array): Promise<{ wrapped: WrappedKey }>;
}

const REFERENCE = {
  payloadCrc32: 0x1c291ca3,
  payloadSize: 2048,
  osImageSha256: "9f".repeat(32),
  otaCertsSha256: "3a".repeat(32),
};

export async function manufactureLean(
  ca: OemCa,
  carrier: FactoryCarrier,
  verdictKeys: ReadonlyArray<{ carrier: string; jwk: JWK }>,
  imei: string,
  model: string,
): Promise<LeanDevice> {
  const keys = await generateAttestationKey();
  const certificatePem = await issueDeviceCertificate(ca, await attestationCsr(keys, imei), {
    imei,
    model,
  });
  const certificateDer = await certificateForKey(certificatePem, keys.publicKey);
  const hpkeSeed = new Uint8Array(randomBytes(HPKE_SEED_BYTES));
  const hpke = await deriveRecipientKeyPair(hpkeSeed);
  const { wrapped } = await carrier.slotKey(hpke.publicKey);
  const owner = `carrier:${carrier.id}`;
  const key = await openWrappedKey(hpke.privateKey, wrapped, { owner, kid: wrapped.kid });
  const slots: TszState["slots"] = Array.from({ length: 8 }, () => null);
  slots[0] = { carrier: carrier.id, kid: wrapped.kid, key };
  const state: TszState = {
    version: 2,
    phase: "ready",
    model,
    imei,
    meid: null,
    esn: null,
    oemId: ca.oemId,
    toggle: 1,
    slots,
    attestation: { privateJwk: await exportPrivateJwk(keys.privateKey), certificatePem },
    hpkeSeed,
    pinned: await Promise.all(verdictKeys.map((k) => pinKey(k.carrier, k.jwk))),
    authoritative: REFERENCE,
    shippedModes: {},
    lastVerdict: null,
    manufacturedAt: new Date().toISOString(),
  };
  return {
    state,
    signingKey: await importSigningKey(state.attestation.privateJwk),
    certificateDer,
    kid: wrapped.kid,
    certificatePem,
  };
}

/** A clean phone's verification result: nothing found, its reference values measured. */
function cleanResult(): VerificationResult {
  return {
    reasons: [],
    matchedSlot: 0,
    measured: {
      payloadSize: REFERENCE.payloadSize,
      payloadCrc32: REFERENCE.payloadCrc32,
      root: {
        suPaths: [],
        buildProps: new Map([["ro.build.tags", "release-keys"]]),
        modes: {},
        otaCertsSha256: REFERENCE.otaCertsSha256,
        osImageSha256: REFERENCE.osImageSha256,
      },
    },
  };
}

/** A fresh phone's DM tree (the device's bootstrap, minus the files it reads them from). */
function freshTree(d: LeanDevice): DmTree {
  const tree = new DmTree();
  mountDevInfo(tree, { devId: `IMEI:${d.state.imei}`, man: "DMGuard", mod: d.state.model });
  mountDevDetail(tree, {
    devTyp: "phone",
    oem: "DMGuard",
    fwV: "1.0",
    swV: "14",
    hwV: d.state.model,
    lrgObj: true,
  });
  mountDmAcc(tree);
  return tree;
}

interface VerdictAnswer {
  verdict: string;
  decision: string;
  dmAccount: unknown;
}

/**
 * One full activation: nonce, evidence, the signed verdict checked against the pinned key, the
 * DM session that provisions the profile. Throws unless the phone ends approved and provisioned.
 */
export async function activateLean(
  d: LeanDevice,
  http: BenchHttp,
  carrierUrl: string,
): Promise<void> {
  const { nonce } = await http.postJson<{ nonce: string }>(`${carrierUrl}/activation/nonce`, {});
  const claims = buildEvidenceClaims(d.state, cleanResult(), nonce, 0);
  const evidence = await signEvidence(
    claims,
    d.signingKey,
    d.certificateDer,
    d.state.slots[0]!.key,
  );
  const answer = await http.postJson<VerdictAnswer>(`${carrierUrl}/activation/evidence`, {
    evidence,
  });
  const record = await checkVerdict(answer.verdict, d.state, nonce);
  if (record.verdict !== "approved" || answer.decision !== "approved") {
    throw new Error(`${d.state.imei} was ${record.verdict}: ${record.reasons.join(" ")}`);
  }
  const tree = freshTree(d);
  const account = installDmAccount(tree, answer.dmAccount);
  grantVendor(tree, account.serverId);
  const client = new DmClient({
    tree,
    account: readTreeAccount(tree, account.serverId)!,
    transport: http.dmTransport(),
    encoding: "xml",
    hooks: {
      persistNonces: (u) => {
        updateDmAccountNonces(tree, account.serverId, u);
      },
    },
  });
  client.queueGenericAlert({ items: [triggerAlertItem("hfa")] });
  const r = await client.start();
  if (r.outcome !== "completed") throw new Error(`${d.state.imei}: DM session ${r.outcome}`);
  const profile = profileFromTree(tree);
  if (profile?.carrier !== record.carrier || profile.access !== "full") {
    throw new Error(`${d.state.imei}: the DM session did not provision the profile`);
  }
}
