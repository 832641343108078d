import { randomBytes } from "node:crypto";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import {
  createOemCa,
  type Device,
  type ManufactureOptions,
  type ManufactureRecord,
  manufactureDevice,
  type OemCa,
  openDevice,
  type TszPool,
  type VerdictClaims,
} from "../../src/device/index.js";
import type { CryptoKey } from "../../src/device/webcrypto-types.js";

/** A test's world: a temp folder, the OEM CA, carrier acme's verdict key and slot key. */
export interface Lab {
  root: string;
  ca: OemCa;
  verdictKey: CryptoKey;
  verdictJwk: JWK;
  slotKey: Uint8Array;
  kid: string;
  cleanup(): Promise<void>;
}

export async function makeLab(): Promise<Lab> {
  const root = await mkdtemp(join(tmpdir(), "dmguard-device-"));
  const ca = await createOemCa({ name: "Test OEM" });
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  return {
    root,
    ca,
    verdictKey: privateKey,
    verdictJwk: await exportJWK(publicKey),
    slotKey: new Uint8Array(randomBytes(32)),
    kid: "acme-2025-01",
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

let counter = 0;

export function deviceDir(lab: Lab, name = "dev"): string {
  counter += 1;
  return join(lab.root, `${name}-${counter}`);
}

export async function makeDevice(
  lab: Lab,
  opts: Partial<ManufactureOptions> & { pool?: TszPool } = {},
): Promise<{ device: Device; record: ManufactureRecord; dir: string }> {
  const dir = deviceDir(lab);
  const { device, record } = await manufactureDevice(dir, {
    model: "dmg-phone-1",
    carrier: "acme",
    oemCa: lab.ca,
    slotKey: lab.slotKey,
    kid: lab.kid,
    verdictKeys: [{ carrier: "acme", jwk: lab.verdictJwk }],
    ...opts,
  });
  return { device, record, dir };
}

/**
 * A byte-for-byte copy of a manufactured device (fuse and sealed state included) in a new
 * directory: another device to the TSZ pool, made in milliseconds instead of a manufacture.
 */
export async function cloneDevice(
  lab: Lab,
  dir: string,
  pool?: TszPool,
): Promise<{ device: Device; dir: string }> {
  const copy = deviceDir(lab, "clone");
  await cp(dir, copy, { recursive: true });
  return { device: await openDevice(copy, pool ? { pool } : {}), dir: copy };
}

export function nonce(): string {
  return randomBytes(16).toString("base64url");
}

export async function signVerdict(
  key: CryptoKey,
  claims: Partial<VerdictClaims> & Pick<VerdictClaims, "eat_nonce" | "imei">,
  header: { alg?: string; kid?: string } = {},
): Promise<string> {
  return new SignJWT({ carrier: "acme", verdict: "approved", reasons: [], ...claims })
    .setProtectedHeader({ alg: "ES256", ...header })
    .setIssuedAt()
    .sign(key);
}
