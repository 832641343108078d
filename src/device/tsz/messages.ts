import { isAbsolute } from "node:path";
import type { JWK } from "jose";
import { DeviceError, type DeviceErrorCode } from "../errors.js";
import type { DeviceReason } from "../reasons.js";
import {
  CARRIER_ID,
  isRecord,
  isSlotCount,
  KEY_ID,
  MODEL_NAME,
  NONCE,
  SLOT_KEY_BYTES,
  type SlotCount,
  unknownKeys,
} from "../validate.js";
import type { Authoritative, NetworkAccess, VerdictRecord, VerdictValue } from "./state.js";

/**
 * The TSZ's message API: the only way in (the emulated SMC, Secure Monitor Call). Requests and
 * responses are plain structured-clone values; every request is validated on arrival by
 * {@link parseRequest}, so a malformed one gets a typed `TSZ_BAD_REQUEST` reply and changes
 * nothing. No response carries key material: slot keys and the attestation private key only ever
 * travel inwards, at manufacture.
 */
export interface ManufactureSpec {
  model: string;
  imei: string;
  meid: string | null;
  esn: string | null;
  oemId: string;
  slotCount: SlotCount;
  /** The first carrier's security key, for slot 0. */
  slot0: { carrier: string; kid: string; key: Uint8Array };
  /** Verdict-signing public keys to pin, per carrier. */
  verdictKeys: Array<{ carrier: string; jwk: JWK; kid?: string }>;
  authoritative: Authoritative;
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
    }
  | { op: "acceptVerdict"; session: string; jws: string }
  | { op: "mayProvision"; session: string }
  | { op: "factoryReset"; session: string };

export type TszOp = TszRequest["op"];
export type TszRequestOf<Op extends TszOp> = Extract<TszRequest, { op: Op }>;

/** What the TSZ shows of itself: identifiers, toggle, slot labels. Never a key. */
export interface TszStatus {
  model: string;
  imei: string;
  meid: string | null;
  esn: string | null;
  oemId: string;
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

function bytes(v: unknown, length: number, at: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== length) throw bad(`${at} must be ${length} bytes`);
  return new Uint8Array(v);
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
    "slot0",
    "verdictKeys",
    "authoritative",
    "shippedModes",
  ];
  fields(v, allowed, "spec");
  if (!isSlotCount(v.slotCount)) throw bad("spec.slotCount must be 8, 16 or 24");
  const s0 = v.slot0;
  if (!isRecord(s0)) throw bad("spec.slot0 must be an object");
  fields(s0, ["carrier", "kid", "key"], "spec.slot0");
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
  fields(
    a,
    ["payloadCrc32", "payloadSize", "osImageSha256", "otaCertsSha256"],
    "spec.authoritative",
  );
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
    slot0: {
      carrier: text(s0.carrier, CARRIER_ID, "spec.slot0.carrier"),
      kid: text(s0.kid, KEY_ID, "spec.slot0.kid"),
      key: bytes(s0.key, SLOT_KEY_BYTES, "spec.slot0.key"),
    },
    verdictKeys,
    authoritative: {
      payloadCrc32: uint(a.payloadCrc32, 0xffffffff, "spec.authoritative.payloadCrc32"),
      payloadSize: uint(a.payloadSize, 1 << 20, "spec.authoritative.payloadSize"),
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
      fields(body, ["op", "session", "nonce", "reported", "carrier"], op);
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
      };
    case "acceptVerdict":
      fields(body, ["op", "session", "jws"], op);
      if (typeof body.jws !== "string" || body.jws.length > MAX_JWS) {
        throw bad("jws must be a compact JWS string");
      }
      return { op, session: session(body), jws: body.jws };
    case "close":
    case "status":
    case "certificate":
    case "mayProvision":
    case "factoryReset":
      fields(body, ["op", "session"], op);
      return { op, session: session(body) };
    default:
      throw bad(
        `unknown op ${typeof op === "string" ? JSON.stringify(op.slice(0, 40)) : `(${typeof op})`}`,
      );
  }
}
