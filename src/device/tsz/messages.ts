import { isAbsolute } from "node:path";
import type { JWK } from "jose";
import type { DeviceReason } from "../../evidence/reasons.js";
import { type EcPublicJwk, isWrappedKey, type WrappedKey } from "../../keystore/hpke-recipient.js";
import { DeviceError, type DeviceErrorCode } from "../errors.js";
import {
  CARRIER_ID,
  isRecord,
  isSlotCount,
  KEY_ID,
  MODEL_NAME,
  NONCE,
  type SlotCount,
  unknownKeys,
} from "../validate.js";
import type {
  Authoritative,
  NetworkAccess,
  TszPhase,
  VerdictRecord,
  VerdictValue,
} from "./state.js";

/**
 * The TSZ's message API: the only way in (the emulated SMC, Secure Monitor Call). Requests and
 * responses are plain structured-clone values; every request is validated on arrival by
 * {@link parseRequest}, so a malformed one gets a typed `TSZ_BAD_REQUEST` reply and changes
 * nothing. No message carries a security key in clear, in either direction: carriers' keys come
 * in HPKE-wrapped to the TSZ's own key (`depositKey`) and are opened inside; nothing secret goes
 * out (the HPKE public key and key check values are public).
 *
 * Manufacture runs in phases: `manufacture` (attestation key, CSR) → `installCertificate` (the
 * state is sealed, phase `manufacturing`, HPKE key made) → `depositKey` (slot 0's key, from the
 * carrier) → `keyCheckValue` (the payload's KCV, made in here) → `fusePayload` (the TSZ measures
 * the payload the OEM wrote; phase `ready`).
 */
export interface ManufactureSpec {
  model: string;
  imei: string;
  meid: string | null;
  esn: string | null;
  oemId: string;
  slotCount: SlotCount;
  /** Verdict-signing public keys to pin, per carrier. */
  verdictKeys: Array<{ carrier: string; jwk: JWK; kid?: string }>;
  /** The OS image and OTA certificates as shipped; the payload's values are fused later. */
  authoritative: Pick<Authoritative, "osImageSha256" | "otaCertsSha256">;
  shippedModes: Record<string, number>;
}

export interface ReportedIdentityMessage {
  imei: string;
  meid: string | null;
}

export type TszRequest =
  | { op: "manufacture"; dir: string; spec: ManufactureSpec }
  | { op: "installCertificate"; session: string; certificatePem: string }
  | { op: "open"; dir: string }
  | { op: "close"; session: string }
  | { op: "status"; session: string }
  | { op: "certificate"; session: string }
  | {
      op: "verify";
      session: string;
      nonce: string;
      reported: ReportedIdentityMessage;
      carrier: string | null;
      /** Migration evidence for this carrier: adds `migrateTo` and the TSZ's HPKE key. */
      migrateTo?: string | null;
    }
  | { op: "acceptVerdict"; session: string; jws: string }
  | { op: "mayProvision"; session: string }
  | { op: "factoryReset"; session: string }
  | { op: "hpkePublicKey"; session: string }
  | { op: "depositKey"; session: string; carrier: string; wrapped: WrappedKey }
  | { op: "keyCheckValue"; session: string; carrier: string }
  | { op: "fusePayload"; session: string };

export type TszOp = TszRequest["op"];
export type TszRequestOf<Op extends TszOp> = Extract<TszRequest, { op: Op }>;

/** What the TSZ shows of itself: identifiers, toggle, slot labels. Never a key. */
export interface TszStatus {
  model: string;
  imei: string;
  meid: string | null;
  esn: string | null;
  oemId: string;
  /** `manufacturing` until the payload is fused (verification refused), then `ready`. */
  phase: TszPhase;
  toggleKey: 0 | 1;
  slotCount: number;
  slots: Array<{ index: number; carrier: string; kid: string }>;
  pinnedCarriers: string[];
  lastVerdict: VerdictRecord | null;
  manufacturedAt: string;
}

export interface VerdictOutcome {
  verdict: VerdictValue;
  reasons: string[];
  carrier: string;
  networkAccess: NetworkAccess;
  via: string;
  toggleKey: 0 | 1;
}

/** Where a deposited key is. `alreadyPresent`: the same key was there already; nothing changed. */
export interface DepositOutcome {
  slot: number;
  carrier: string;
  kid: string;
  alreadyPresent: boolean;
}

/** The TSZ's HPKE recipient public key: the KEM serialization (65 bytes) and its JWK. */
export interface HpkePublicKey {
  publicKey: Uint8Array;
  jwk: EcPublicJwk;
}

/** The payload's key check value for a carrier's slot (key-check-value.ts), made in the TSZ. */
export interface SlotKeyCheck {
  slot: number;
  kid: string;
  kcv: Uint8Array;
}

export interface TszResults {
  manufacture: { session: string; csrPem: string };
  installCertificate: TszStatus;
  open: { session: string };
  close: { closed: true };
  status: TszStatus;
  certificate: { certificatePem: string };
  verify: { evidence: string; reasons: DeviceReason[] };
  acceptVerdict: VerdictOutcome;
  mayProvision: { allowed: boolean };
  factoryReset: { toggleKey: 1 };
  hpkePublicKey: HpkePublicKey;
  depositKey: DepositOutcome;
  keyCheckValue: SlotKeyCheck;
  fusePayload: TszStatus;
}

export interface TszErrorReply {
  code: DeviceErrorCode;
  message: string;
}

export type TszResponse = { ok: true; result: unknown } | { ok: false; error: TszErrorReply };

/** Envelopes on the worker channel; `id` pairs a response with its request. */
export interface TszEnvelope {
  id: number;
  body: unknown;
}
export interface TszReplyEnvelope {
  id: number;
  response: TszResponse;
}

const SESSION = /^[A-Za-z0-9_-]{16,64}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const IMEI_SHAPE = /^[0-9]{14,16}$/;
const MEID_SHAPE = /^[0-9A-Fa-f]{14,15}$/;
const ESN_SHAPE = /^[0-9A-Fa-f]{8}$/;
const OEM_ID = /^[A-Za-z0-9_-]{22}$/;
const MAX_PATH = 4096;
const MAX_PEM = 16 * 1024;
const MAX_JWS = 16 * 1024;
const MAX_PINNED = 32;
const MAX_SHIPPED = 256;

function bad(message: string): DeviceError {
  return new DeviceError("TSZ_BAD_REQUEST", message);
}

function fields(v: Record<string, unknown>, allowed: readonly string[], at: string): void {
  const extra = unknownKeys(v, allowed);
  if (extra.length > 0)
    throw bad(`${at} has unknown field ${JSON.stringify(extra[0]!.slice(0, 40))}`);
}

function text(v: unknown, re: RegExp, at: string): string {
  if (typeof v !== "string" || !re.test(v)) throw bad(`${at} is not valid`);
  return v;
}

function nullable(v: unknown, re: RegExp, at: string): string | null {
  return v === null ? null : text(v, re, at);
}

function dir(v: unknown): string {
  if (
    typeof v !== "string" ||
    v.length === 0 ||
    v.length > MAX_PATH ||
    !isAbsolute(v) ||
    v.includes("\0")
  ) {
    throw bad("dir must be an absolute path");
  }
  return v;
}

function session(v: Record<string, unknown>): string {
  return text(v.session, SESSION, "session");
}

function uint(v: unknown, max: number, at: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max)
    throw bad(`${at} is not valid`);
  return v;
}

function jwk(v: unknown, at: string): JWK {
  if (!isRecord(v)) throw bad(`${at} must be a JWK object`);
  fields(v, ["kty", "crv", "x", "y", "d", "kid", "alg", "use", "key_ops", "ext"], at);
  for (const k of ["kty", "crv", "x", "y", "d"] as const) {
    if (v[k] !== undefined && (typeof v[k] !== "string" || (v[k] as string).length > 256)) {
      throw bad(`${at}.${k} is not valid`);
    }
  }
  return v as JWK;
}

function spec(v: unknown): ManufactureSpec {
  if (!isRecord(v)) throw bad("spec must be an object");
  const allowed = [
    "model",
    "imei",
    "meid",
    "esn",
    "oemId",
    "slotCount",
    "verdictKeys",
    "authoritative",
    "shippedModes",
  ];
  fields(v, allowed, "spec");
  if (!isSlotCount(v.slotCount)) throw bad("spec.slotCount must be 8, 16 or 24");
  if (!Array.isArray(v.verdictKeys) || v.verdictKeys.length > MAX_PINNED) {
    throw bad(`spec.verdictKeys must be an array of at most ${MAX_PINNED}`);
  }
  const verdictKeys = v.verdictKeys.map((k, i) => {
    if (!isRecord(k)) throw bad(`spec.verdictKeys[${i}] must be an object`);
    fields(k, ["carrier", "jwk", "kid"], `spec.verdictKeys[${i}]`);
    const out: { carrier: string; jwk: JWK; kid?: string } = {
      carrier: text(k.carrier, CARRIER_ID, `spec.verdictKeys[${i}].carrier`),
      jwk: jwk(k.jwk, `spec.verdictKeys[${i}].jwk`),
    };
    if (k.kid !== undefined) out.kid = text(k.kid, KEY_ID, `spec.verdictKeys[${i}].kid`);
    return out;
  });
  const a = v.authoritative;
  if (!isRecord(a)) throw bad("spec.authoritative must be an object");
  fields(a, ["osImageSha256", "otaCertsSha256"], "spec.authoritative");
  const m = v.shippedModes;
  if (!isRecord(m) || Object.keys(m).length > MAX_SHIPPED)
    throw bad("spec.shippedModes is not valid");
  const shippedModes: Record<string, number> = {};
  for (const [path, mode] of Object.entries(m)) {
    if (path.length > 256 || isAbsolute(path) || path.split("/").includes("..")) {
      throw bad("spec.shippedModes has a path outside the device");
    }
    shippedModes[path] = uint(mode, 0o7777, "spec.shippedModes mode");
  }
  return {
    model: text(v.model, MODEL_NAME, "spec.model"),
    imei: text(v.imei, IMEI_SHAPE, "spec.imei"),
    meid: nullable(v.meid, MEID_SHAPE, "spec.meid"),
    esn: nullable(v.esn, ESN_SHAPE, "spec.esn"),
    oemId: text(v.oemId, OEM_ID, "spec.oemId"),
    slotCount: v.slotCount,
    verdictKeys,
    authoritative: {
      osImageSha256: text(a.osImageSha256, SHA256_HEX, "spec.authoritative.osImageSha256"),
      otaCertsSha256: text(a.otaCertsSha256, SHA256_HEX, "spec.authoritative.otaCertsSha256"),
    },
    shippedModes,
  };
}

function reported(v: unknown): ReportedIdentityMessage {
  if (!isRecord(v)) throw bad("reported must be an object");
  fields(v, ["imei", "meid"], "reported");
  // The normal world's claim is only compared, so any short printable text is accepted.
  return {
    imei: text(v.imei, /^[\x20-\x7e]{0,32}$/, "reported.imei"),
    meid: nullable(v.meid, /^[\x20-\x7e]{0,32}$/, "reported.meid"),
  };
}

/**
 * A wrapped key as the keystore hands it out (hpke-suite.ts `WrappedKey`, exact shape), copied
 * field by field into a fresh object; anything else is `WRAPPED_KEY_INVALID`.
 */
function wrappedKey(v: unknown): WrappedKey {
  if (!isWrappedKey(v)) {
    throw new DeviceError(
      "WRAPPED_KEY_INVALID",
      "wrapped is not an HPKE-wrapped key of the suite DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM",
    );
  }
  const { v: version, kem, kdf, aead, owner, kid, enc, ct } = v;
  return { v: version, kem, kdf, aead, owner, kid, enc, ct };
}

/** The request in `body`, or `TSZ_BAD_REQUEST` naming the first fault. Own properties only. */
export function parseRequest(body: unknown): TszRequest {
  if (!isRecord(body)) throw bad("a request must be an object");
  const op = body.op;
  switch (op) {
    case "manufacture":
      fields(body, ["op", "dir", "spec"], "manufacture");
      return { op, dir: dir(body.dir), spec: spec(body.spec) };
    case "installCertificate":
      fields(body, ["op", "session", "certificatePem"], op);
      if (typeof body.certificatePem !== "string" || body.certificatePem.length > MAX_PEM) {
        throw bad("certificatePem must be a PEM certificate");
      }
      return { op, session: session(body), certificatePem: body.certificatePem };
    case "open":
      fields(body, ["op", "dir"], op);
      return { op, dir: dir(body.dir) };
    case "verify":
      fields(body, ["op", "session", "nonce", "reported", "carrier", "migrateTo"], op);
      session(body);
      if (typeof body.nonce !== "string" || !NONCE.test(body.nonce)) {
        throw new DeviceError(
          "NONCE_INVALID",
          "the nonce must be 8-88 base64/base64url characters",
        );
      }
      return {
        op,
        session: session(body),
        nonce: body.nonce,
        reported: reported(body.reported),
        carrier: nullable(body.carrier ?? null, CARRIER_ID, "carrier"),
        migrateTo: nullable(body.migrateTo ?? null, CARRIER_ID, "migrateTo"),
      };
    case "acceptVerdict":
      fields(body, ["op", "session", "jws"], op);
      if (typeof body.jws !== "string" || body.jws.length > MAX_JWS) {
        throw bad("jws must be a compact JWS string");
      }
      return { op, session: session(body), jws: body.jws };
    case "depositKey":
      fields(body, ["op", "session", "carrier", "wrapped"], op);
      return {
        op,
        session: session(body),
        carrier: text(body.carrier, CARRIER_ID, "carrier"),
        wrapped: wrappedKey(body.wrapped),
      };
    case "keyCheckValue":
      fields(body, ["op", "session", "carrier"], op);
      return { op, session: session(body), carrier: text(body.carrier, CARRIER_ID, "carrier") };
    case "close":
    case "status":
    case "certificate":
    case "mayProvision":
    case "factoryReset":
    case "hpkePublicKey":
    case "fusePayload":
      fields(body, ["op", "session"], op);
      return { op, session: session(body) };
    default:
      throw bad(
        `unknown op ${typeof op === "string" ? JSON.stringify(op.slice(0, 40)) : `(${typeof op})`}`,
      );
  }
}
