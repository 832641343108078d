import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { TenantKeystore } from "../../keystore/index.js";

/**
 * Device records in a carrier's custody are sealed under that carrier's KEK: two values are
 * derived inside the keystore from the carrier's custody secret (sealed under its own KEK),
 *
 *   rowId   = HEX(HMAC(secret, "dmguard custody row v1"  ‖ 0x00 ‖ IMEI))
 *   sealKey =     HMAC(secret, "dmguard custody seal v1" ‖ 0x00 ‖ IMEI)
 *
 * and the record is AES-256-GCM (NIST SP 800-38D) under sealKey, with rowId and the carrier as
 * additional data. The database holds neither IMEIs nor records in clear; without the keystore
 * (that carrier's custody) a row cannot be found by IMEI or read.
 */
export const CUSTODY_SECRET = "custody-records";
const ROW_LABEL = "dmguard custody row v1";
const SEAL_LABEL = "dmguard custody seal v1";

export interface SealedRecord {
  iv: string;
  ct: string;
  tag: string;
}

export async function rowIdFor(keys: TenantKeystore, imei: string): Promise<string> {
  const mac = await keys.hmac(CUSTODY_SECRET, `${ROW_LABEL}\u0000${imei}`);
  return Buffer.from(mac).toString("hex");
}

async function sealKey(keys: TenantKeystore, imei: string): Promise<Buffer> {
  return Buffer.from(await keys.hmac(CUSTODY_SECRET, `${SEAL_LABEL}\u0000${imei}`));
}

export async function seal(
  keys: TenantKeystore,
  imei: string,
  rowId: string,
  record: unknown,
): Promise<SealedRecord> {
  const key = await sealKey(keys, imei);
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(Buffer.from(`${keys.owner}\u0000${rowId}`));
  const ct = Buffer.concat([c.update(JSON.stringify(record), "utf8"), c.final()]);
  key.fill(0);
  return {
    iv: iv.toString("base64url"),
    ct: ct.toString("base64url"),
    tag: c.getAuthTag().toString("base64url"),
  };
}

/** The record, or null when the row does not open (altered, or another carrier's). */
export async function open(
  keys: TenantKeystore,
  imei: string,
  rowId: string,
  sealed: SealedRecord,
): Promise<unknown> {
  const key = await sealKey(keys, imei);
  try {
    const d = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "base64url"));
    d.setAAD(Buffer.from(`${keys.owner}\u0000${rowId}`));
    d.setAuthTag(Buffer.from(sealed.tag, "base64url"));
    const pt = Buffer.concat([d.update(Buffer.from(sealed.ct, "base64url")), d.final()]);
    return JSON.parse(pt.toString("utf8")) as unknown;
  } catch {
    return null;
  } finally {
    key.fill(0);
  }
}
