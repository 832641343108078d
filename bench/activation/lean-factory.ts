/**
 * The load generator's phones as the OEM's factory line makes them, as `device manufacture`
 * does but with the TSZ's state held in memory (no DEVDIR, no worker, no sealed files): an
 * attestation key certified by the stack's OEM CA through a PKCS#10 request; slot 0's key made
 * in the carrier's keystore and opened here from its HPKE wrapping; no verdict key pinned yet
 * (factory.ts attaches the fleet's one set of pinned keys when the phone is back from its line,
 * so that the TSZ's verdict code imports each key once); when the stack runs the platform, slot
 * 0's key also wrapped by the carrier's keystore to the platform and deposited, with the record,
 * in the carrier's custody there, so that the platform takes the phone's activation date when
 * the carrier sends it. lean-device.ts activates them. Kept
 * apart from it so that the factory's worker threads (factory.ts) load only what making a phone
 * needs.
 */
import { type KeyObject, randomBytes } from "node:crypto";
import type { JWK } from "jose";
import type { CustodyRecord } from "../../src/cli/stack/platform-client.js";
import { issueDeviceCertificate, type OemCa } from "../../src/device/oem-ca.js";
import {
  attestationCsr,
  certificateForKey,
  exportPrivateJwk,
  generateAttestationKey,
  importSigningKey,
} from "../../src/device/tsz/attestation-key.js";
import { HPKE_SEED_BYTES, type TszState } from "../../src/device/tsz/state.js";
import { deriveRecipientKeyPair, openWrappedKey } from "../../src/keystore/hpke-recipient.js";
import type { WrappedKey } from "../../src/keystore/index.js";
import type { DmTree } from "../../src/omadm/tree/dm-tree.js";
import type { TreeSnapshot } from "../../src/omadm/tree/types.js";

export interface LeanDevice {
  readonly state: TszState;
  readonly signingKey: KeyObject;
  readonly certificateDer: string;
  readonly kid: string;
  readonly certificatePem: string;
  /** Factory trees not in use by an activation (one per activation of this phone at a time). */
  readonly trees: FactoryTree[];
}

/** A fresh phone's DM tree and the snapshot every activation of the phone starts from. */
export interface FactoryTree {
  readonly tree: DmTree;
  readonly factory: TreeSnapshot;
}

/** The carrier calls a factory line needs (the stack's CarrierAdmin has them). */
export interface FactoryCarrier {
  readonly id: string;
  slotKey(
    hpkePublicKey: Uint8Array,
    custody?: JWK,
  ): Promise<{ wrapped: WrappedKey; custodyWrapped?: WrappedKey }>;
}

/** The platform's custody of the carrier's devices, as `device manufacture` deposits in it. */
export interface FactoryCustody {
  /** The platform's transport key, which the carrier's keystore wraps slot keys to. */
  readonly transportKey: JWK;
  deposit(imei: string, record: CustodyRecord): Promise<void>;
}

/** A clean phone's reference measurements, as its payload records them. */
export const REFERENCE = {
  payloadCrc32: 0x1c291ca3,
  payloadSize: 2048,
  osImageSha256: "9f".repeat(32),
  otaCertsSha256: "3a".repeat(32),
};

/** Makes one phone as `device manufacture` does, minus the files. */
export async function manufactureLean(
  ca: OemCa,
  carrier: FactoryCarrier,
  imei: string,
  model: string,
  custody: FactoryCustody,
): Promise<LeanDevice> {
  const keys = await generateAttestationKey();
  const certificatePem = await issueDeviceCertificate(ca, await attestationCsr(keys, imei), {
    imei,
    model,
  });
  const certificateDer = await certificateForKey(certificatePem, keys.publicKey);
  const hpkeSeed = new Uint8Array(randomBytes(HPKE_SEED_BYTES));
  const hpke = await deriveRecipientKeyPair(hpkeSeed);
  const { wrapped, custodyWrapped } = await carrier.slotKey(hpke.publicKey, custody.transportKey);
  const owner = `carrier:${carrier.id}`;
  const key = await openWrappedKey(hpke.privateKey, wrapped, { owner, kid: wrapped.kid });
  if (!custodyWrapped) throw new Error(`${imei}: the carrier wrapped no key to the platform`);
  await custody.deposit(imei, {
    meid: null,
    esn: null,
    model,
    kid: wrapped.kid,
    attestationKey: certificatePem,
    contractEnd: null,
    wrappedKey: custodyWrapped,
  });
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
    // Factory.make (factory.ts) attaches the fleet's pinned keys: not copied per phone here.
    pinned: [],
    authoritative: REFERENCE,
    shippedModes: {},
    lastVerdict: null,
    manufacturedAt: new Date().toISOString(),
  };
  return {
    state,
    signingKey: importSigningKey(state.attestation.privateJwk),
    certificateDer,
    kid: wrapped.kid,
    certificatePem,
    trees: [],
  };
}
