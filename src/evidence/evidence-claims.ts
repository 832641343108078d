import { createHash } from "node:crypto";
import { type DeviceReason, isDeviceReason } from "./reasons.js";
import { CARRIER_ID, isRecord, NONCE } from "./shapes.js";

/**
 * The evidence the TSZ signs (DESIGN.md step 4): a compact JWS (RFC 7515), ES256 under the
 * device attestation key, whose protected header carries `typ: "eat+jwt"`, `x5c` (RFC 7515
 * §4.1.6: the device certificate, base64 DER) and `kp` (key-proof.ts). Its claims are those of
 * an RFC 9711 Entity Attestation Token where one fits, plus the activation facts.
 */
export const EVIDENCE_TYP = "eat+jwt";
/** RFC 9711 §4.3.2 `eat_profile`: a private profile, identified by a tag URI (RFC 4151). */
export const EVIDENCE_PROFILE = "tag:dmguard.invalid,2025:device-evidence-v1";
/** The CoAP Content-Format of application/json (RFC 7252 §12.3), for `measurements`. */
export const MEASUREMENTS_CONTENT_FORMAT = 50;

/** RFC 9711 §4.2.9 debug status: 0 enabled, 1 disabled (2–4: stronger forms, not claimed). */
export type DebugStatus = 0 | 1 | 2 | 3 | 4;

/** What the verification application measured now, as the one entry of `measurements`. */
export interface MeasurementDocument {
  payload: { size: number | null; crc32: string | null };
  osImage: { sha256: string | null };
  otaCerts: { sha256: string | null };
  buildTags: string | null;
  su: string[];
}

export interface EvidenceClaims {
  /** RFC 9711 §4.3.2. */
  eat_profile: string;
  /** RFC 7519 §4.1.6, seconds. */
  iat: number;
  /** RFC 9711 §4.1: the server's nonce, as sent. */
  eat_nonce: string;
  /** RFC 9711 §4.2.1 UEID, base64url; type 0x03 (IMEI) when the fused IMEI is 15 digits. */
  ueid: string;
  /** RFC 9711 §4.2.3 OEMID, random-based form, base64url. */
  oemid: string;
  /** RFC 9711 §4.2.4 hardware model, base64url of the model name (≤ 32 bytes, else its hash). */
  hwmodel: string;
  /** RFC 9711 §4.2.9. */
  dbgstat: DebugStatus;
  /** RFC 9711 §4.2.8: OS image as shipped and a release-keys build. */
  oemboot: boolean;
  /** RFC 9711 §4.2.16: [[content-format, base64url(JSON MeasurementDocument)]]. */
  measurements: Array<[number, string]>;
  imei: string;
  meid: string | null;
  esn: string | null;
  model: string;
  /** The slot whose key proves possession in `kp`: its carrier, key id, index. */
  carrier: string | null;
  kid: string | null;
  slot: number | null;
  /** What the verification application found; empty = clean. */
  reasons: DeviceReason[];
  /**
   * Migration evidence only (EVIDENCE.md "Migration"): the carrier the device asks to move to,
   * and the TSZ's HPKE public key (RFC 9180 P-256 KEM serialization, 65 bytes, base64url) the
   * new carrier wraps its key to. Signed with the rest, so the key is the attested TSZ's.
   */
  migrateTo?: string;
  hpke?: string;
}

/**
 * RFC 9711 §4.2.1: type byte 0x03 then the IMEI's first 14 digits (TAC + serial, no check digit)
 * as 14 bytes, each the digit's value. A fused IMEI that is not 15 digits (a counterfeit) gets a
 * type 0x01 RAND UEID hashed from it instead, which the RFC allows.
 */
export function ueidForImei(imei: string): string {
  if (/^[0-9]{15}$/.test(imei)) {
    const bytes = Buffer.alloc(15);
    bytes[0] = 0x03;
    for (let i = 0; i < 14; i++) bytes[i + 1] = imei.charCodeAt(i) - 0x30;
    return bytes.toString("base64url");
  }
  const rand = createHash("sha256").update(`dmguard ueid|${imei}`).digest().subarray(0, 16);
  return Buffer.concat([Buffer.of(0x01), rand]).toString("base64url");
}

export function hwmodelFor(model: string): string {
  const utf8 = Buffer.from(model, "utf8");
  const bytes = utf8.length <= 32 ? utf8 : createHash("sha256").update(utf8).digest();
  return bytes.toString("base64url");
}

export function encodeMeasurements(doc: MeasurementDocument): Array<[number, string]> {
  return [
    [MEASUREMENTS_CONTENT_FORMAT, Buffer.from(JSON.stringify(doc), "utf8").toString("base64url")],
  ];
}

/** The measurement document of an evidence's `measurements`, or `null` if it has none. */
export function decodeMeasurements(claim: unknown): MeasurementDocument | null {
  if (!Array.isArray(claim)) return null;
  for (const entry of claim) {
    if (
      Array.isArray(entry) &&
      entry[0] === MEASUREMENTS_CONTENT_FORMAT &&
      typeof entry[1] === "string"
    ) {
      try {
        return JSON.parse(
          Buffer.from(entry[1], "base64url").toString("utf8"),
        ) as MeasurementDocument;
      } catch {
        return null;
      }
    }
  }
  return null;
}

const B64URL = /^[A-Za-z0-9_-]{1,128}$/;
const PRINTABLE = /^[\x21-\x7e]{1,64}$/;
/** A P-256 uncompressed point (65 bytes, 0x04 first) in unpadded base64url: 87 characters. */
const HPKE_POINT = /^B[A-Za-z0-9_-]{86}$/;

function nullableString(v: unknown, max: number): boolean {
  return v === null || (typeof v === "string" && v.length <= max);
}

/**
 * The claims of an evidence payload, checked for shape only (what a server does after the
 * signature verified and before it trusts any field), or a word naming the first bad claim.
 * Identity rules (Luhn, TAC) are not checked here: the device reports those as reasons, and the
 * server's inventory match judges the rest.
 */
export function parseEvidenceClaims(v: unknown): EvidenceClaims | string {
  if (!isRecord(v)) return "claims are not a JSON object";
  if (v.eat_profile !== EVIDENCE_PROFILE) return "eat_profile";
  if (typeof v.iat !== "number" || !Number.isInteger(v.iat) || v.iat < 0) return "iat";
  if (typeof v.eat_nonce !== "string" || !NONCE.test(v.eat_nonce)) return "eat_nonce";
  for (const k of ["ueid", "oemid", "hwmodel"] as const) {
    if (typeof v[k] !== "string" || !B64URL.test(v[k])) return k;
  }
  if (typeof v.dbgstat !== "number" || ![0, 1, 2, 3, 4].includes(v.dbgstat)) return "dbgstat";
  if (typeof v.oemboot !== "boolean") return "oemboot";
  if (!Array.isArray(v.measurements) || v.measurements.length > 8) return "measurements";
  if (typeof v.imei !== "string" || v.imei.length === 0 || v.imei.length > 32) return "imei";
  if (!nullableString(v.meid, 32)) return "meid";
  if (!nullableString(v.esn, 32)) return "esn";
  if (typeof v.model !== "string" || !PRINTABLE.test(v.model)) return "model";
  if (v.carrier !== null && (typeof v.carrier !== "string" || !CARRIER_ID.test(v.carrier))) {
    return "carrier";
  }
  if (v.kid !== null && (typeof v.kid !== "string" || !PRINTABLE.test(v.kid))) return "kid";
  if (v.slot !== null && (typeof v.slot !== "number" || !Number.isInteger(v.slot) || v.slot < 0)) {
    return "slot";
  }
  if (!Array.isArray(v.reasons) || v.reasons.length > 32 || !v.reasons.every(isDeviceReason)) {
    return "reasons";
  }
  if (
    v.migrateTo !== undefined &&
    (typeof v.migrateTo !== "string" || !CARRIER_ID.test(v.migrateTo))
  ) {
    return "migrateTo";
  }
  if (v.hpke !== undefined && (typeof v.hpke !== "string" || !HPKE_POINT.test(v.hpke))) {
    return "hpke";
  }
  if ((v.migrateTo === undefined) !== (v.hpke === undefined)) return "hpke";
  return v as unknown as EvidenceClaims;
}
