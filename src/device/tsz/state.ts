import { randomBytes } from "node:crypto";
import type { JWK } from "jose";
import { DeviceError } from "../errors.js";
import { CARRIER_ID, isRecord, isSlotCount, KEY_ID, SLOT_KEY_BYTES } from "../validate.js";

/**
 * Everything the trusted security zone keeps (DESIGN.md, device/tsz). It exists in clear only in
 * the TSZ worker's memory; on disk it is sealed (sealed-store.ts).
 *
 * Version 2 adds the TSZ's own HPKE key (RFC 9180, the suite of keystore/hpke-suite.ts), kept as
 * a 32-byte seed from which the key pair is derived (DeriveKeyPair, §7.1.3), and the
 * manufacturing phase. A version 1 state (before the HPKE key) is upgraded when loaded: it gets
 * a fresh seed, and the loader seals it back before the device is used (sealed-store.ts).
 */
export interface SlotState {
  carrier: string;
  kid: string;
  /** The 256-bit security key the carrier also holds. Never leaves the TSZ. */
  key: Uint8Array;
}

/** A verdict-signing public key pinned at manufacture, and the carrier it speaks for. */
export interface PinnedKey {
  carrier: string;
  /** JWS `kid` the server puts in its verdict header; RFC 7638 thumbprint unless given. */
  kid: string;
  jwk: JWK;
}

/** The reference values the verification application compares against (RFC 9334 terms). */
export interface Authoritative {
  payloadCrc32: number;
  payloadSize: number;
  osImageSha256: string;
  otaCertsSha256: string;
}

export type VerdictValue = "approved" | "denied";
export type NetworkAccess = "full" | "limited";

/** The last verdict the TSZ accepted (signature checked), for `status`. */
export interface VerdictRecord {
  verdict: VerdictValue;
  reasons: string[];
  carrier: string;
  networkAccess: NetworkAccess;
  via: string;
  acceptedAt: string;
}

/**
 * `manufacturing`: sealed, certified, holding its HPKE key, waiting for slot 0's key and the
 * payload (verification is refused). `ready`: the payload's reference values are fused.
 */
export type TszPhase = "manufacturing" | "ready";

/** Bytes of the HPKE seed (RFC 9180 §7.1.3 takes at least Nsk = 32 for P-256). */
export const HPKE_SEED_BYTES = 32;

export interface TszState {
  version: 2;
  phase: TszPhase;
  model: string;
  imei: string;
  meid: string | null;
  esn: string | null;
  /** RFC 9711 oemid (random-based form, base64url). */
  oemId: string;
  /** 1 = profile provisioning blocked (as manufactured), 0 = allowed. */
  toggle: 0 | 1;
  slots: Array<SlotState | null>;
  attestation: { privateJwk: JWK; certificatePem: string };
  /** The seed of the TSZ's HPKE recipient key pair, to which carriers wrap their keys. */
  hpkeSeed: Uint8Array;
  pinned: PinnedKey[];
  authoritative: Authoritative;
  shippedModes: Record<string, number>;
  lastVerdict: VerdictRecord | null;
  manufacturedAt: string;
}

interface SerialSlot {
  carrier: string;
  kid: string;
  key: string;
}

/** JSON with keys as base64; only ever written into the sealed file. */
export function serializeState(state: TszState): Uint8Array {
  const slots: Array<SerialSlot | null> = state.slots.map((s) =>
    s ? { carrier: s.carrier, kid: s.kid, key: Buffer.from(s.key).toString("base64") } : null,
  );
  const hpkeSeed = Buffer.from(state.hpkeSeed).toString("base64");
  return new Uint8Array(Buffer.from(JSON.stringify({ ...state, slots, hpkeSeed }), "utf8"));
}

function corrupt(what: string): DeviceError {
  return new DeviceError(
    "SEALED_STATE_CORRUPT",
    `sealed TSZ state has an invalid ${what}; the TSZ refuses to start`,
  );
}

function str(v: unknown, what: string): string {
  if (typeof v !== "string") throw corrupt(what);
  return v;
}

function parseSlot(v: unknown): SlotState | null {
  if (v === null) return null;
  if (!isRecord(v)) throw corrupt("slot");
  const carrier = str(v.carrier, "slot carrier");
  const kid = str(v.kid, "slot key id");
  const key = Buffer.from(str(v.key, "slot key"), "base64");
  if (!CARRIER_ID.test(carrier) || !KEY_ID.test(kid) || key.length !== SLOT_KEY_BYTES) {
    throw corrupt("slot");
  }
  return { carrier, kid, key: new Uint8Array(key) };
}

function parseSeed(v: unknown): Uint8Array {
  const seed = Buffer.from(str(v, "HPKE seed"), "base64");
  if (seed.length !== HPKE_SEED_BYTES) throw corrupt("HPKE seed");
  return new Uint8Array(seed);
}

/**
 * The state from the decrypted bytes, and whether it was upgraded from version 1 (then the
 * caller must seal it back: the fresh HPKE seed exists nowhere else yet). AES-GCM already proved
 * nobody edited the bytes, so a failure here means a file from another version of the code:
 * refused the same way.
 */
export function parseState(bytes: Uint8Array): { state: TszState; upgraded: boolean } {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw corrupt("encoding");
  }
  if (!isRecord(v) || (v.version !== 1 && v.version !== 2)) throw corrupt("version");
  const upgraded = v.version === 1;
  if (!upgraded && v.phase !== "manufacturing" && v.phase !== "ready") throw corrupt("phase");
  if (!Array.isArray(v.slots) || !isSlotCount(v.slots.length)) throw corrupt("slot table");
  if (v.toggle !== 0 && v.toggle !== 1) throw corrupt("toggle key");
  const att = v.attestation;
  if (!isRecord(att) || !isRecord(att.privateJwk)) throw corrupt("attestation key");
  const auth = v.authoritative;
  if (
    !isRecord(auth) ||
    typeof auth.payloadCrc32 !== "number" ||
    typeof auth.payloadSize !== "number" ||
    typeof auth.osImageSha256 !== "string" ||
    typeof auth.otaCertsSha256 !== "string"
  ) {
    throw corrupt("reference values");
  }
  if (!Array.isArray(v.pinned) || !isRecord(v.shippedModes)) throw corrupt("pinned keys");
  const state: TszState = {
    version: 2,
    phase: upgraded ? "ready" : (v.phase as TszPhase),
    model: str(v.model, "model"),
    imei: str(v.imei, "IMEI"),
    meid: v.meid === null ? null : str(v.meid, "MEID"),
    esn: v.esn === null ? null : str(v.esn, "ESN"),
    oemId: str(v.oemId, "OEM id"),
    toggle: v.toggle,
    slots: v.slots.map(parseSlot),
    attestation: {
      privateJwk: att.privateJwk as JWK,
      certificatePem: str(att.certificatePem, "certificate"),
    },
    hpkeSeed: upgraded ? new Uint8Array(randomBytes(HPKE_SEED_BYTES)) : parseSeed(v.hpkeSeed),
    pinned: v.pinned as PinnedKey[],
    authoritative: auth as unknown as Authoritative,
    shippedModes: v.shippedModes as Record<string, number>,
    lastVerdict: (v.lastVerdict ?? null) as VerdictRecord | null,
    manufacturedAt: str(v.manufacturedAt, "manufacture date"),
  };
  return { state, upgraded };
}
