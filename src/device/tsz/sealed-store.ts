import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../atomic-write.js";
import { DeviceError } from "../errors.js";
import { DEVICE_PATHS } from "../normal/layout.js";
import { parseState, serializeState, type TszState } from "./state.js";

/**
 * Sealed storage: one file per device, `DEVDIR/tsz/state.sealed`, AES-256-GCM (NIST SP 800-38D)
 * under a device-unique key. The key is derived with HKDF-SHA256 (RFC 5869) from the per-device
 * root secret in `DEVDIR/tsz/fuse.key` (32 random bytes, mode 0600), which stands in for a
 * hardware fuse that only the secure world can read.
 *
 * File layout: magic `DMGTSZ` (6 bytes) ‖ version 0x01 ‖ IV (12) ‖ tag (16) ‖ ciphertext.
 * AAD = "dmguard tsz sealed state" ‖ magic ‖ version, binding the purpose and the version so a
 * file sealed for another purpose or version does not open as this one. Any edit anywhere fails
 * authentication and the TSZ refuses to start (`SEALED_STATE_CORRUPT`).
 */
export const FUSE_FILE = "fuse.key";
export const STATE_FILE = "state.sealed";
const MAGIC = Buffer.from("DMGTSZ", "latin1");
const VERSION = 1;
const HEADER = Buffer.concat([MAGIC, Buffer.of(VERSION)]);
const AAD = Buffer.concat([Buffer.from("dmguard tsz sealed state", "utf8"), HEADER]);
const HKDF_SALT = Buffer.from("dmguard tsz seal v1", "utf8");
const HKDF_INFO = Buffer.from("state.sealed aes-256-gcm", "utf8");
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FUSE_BYTES = 32;
/** A sealed state is a few KB; anything far larger is not one of ours (bounded read). */
const MAX_SEALED_BYTES = 1024 * 1024;

export function tszDir(dir: string): string {
  return join(dir, DEVICE_PATHS.tszDir);
}

export function sealedStatePath(dir: string): string {
  return join(tszDir(dir), STATE_FILE);
}

export function deriveSealKey(fuse: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", fuse, HKDF_SALT, HKDF_INFO, 32));
}

export function seal(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  c.setAAD(AAD);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return new Uint8Array(Buffer.concat([HEADER, iv, c.getAuthTag(), body]));
}

export function unseal(key: Uint8Array, sealed: Uint8Array, where: string): Uint8Array {
  const refuse = (): DeviceError =>
    new DeviceError(
      "SEALED_STATE_CORRUPT",
      `sealed TSZ state ${where} failed authentication (edited or corrupted); the TSZ refuses to start`,
    );
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (
    buf.length < HEADER.length + IV_BYTES + TAG_BYTES ||
    !buf.subarray(0, HEADER.length).equals(HEADER)
  ) {
    throw refuse();
  }
  const iv = buf.subarray(HEADER.length, HEADER.length + IV_BYTES);
  const tag = buf.subarray(HEADER.length + IV_BYTES, HEADER.length + IV_BYTES + TAG_BYTES);
  const body = buf.subarray(HEADER.length + IV_BYTES + TAG_BYTES);
  try {
    const d = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    d.setAAD(AAD);
    d.setAuthTag(tag);
    return new Uint8Array(Buffer.concat([d.update(body), d.final()]));
  } catch {
    throw refuse();
  }
}

/** Blows the fuse: a fresh per-device root secret, written once at manufacture (mode 0600). */
export async function burnFuse(dir: string): Promise<Uint8Array> {
  const fuse = new Uint8Array(randomBytes(FUSE_BYTES));
  await writeFileAtomic(join(tszDir(dir), FUSE_FILE), fuse, 0o600);
  return fuse;
}

export async function readFuse(dir: string): Promise<Uint8Array> {
  let fuse: Buffer;
  try {
    fuse = await readFile(join(tszDir(dir), FUSE_FILE));
  } catch {
    throw new DeviceError(
      "FUSE_MISSING",
      `the TSZ fuse ${join(tszDir(dir), FUSE_FILE)} is missing`,
    );
  }
  if (fuse.length !== FUSE_BYTES) {
    throw new DeviceError("FUSE_MISSING", `the TSZ fuse is not ${FUSE_BYTES} bytes`);
  }
  return new Uint8Array(fuse);
}

export async function sealedStateExists(dir: string): Promise<boolean> {
  try {
    await stat(sealedStatePath(dir));
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads, authenticates and parses the device's sealed state; returns it with its seal key. A
 * version 1 state is upgraded and sealed back first (state.ts).
 */
export async function loadSealedState(
  dir: string,
): Promise<{ state: TszState; sealKey: Uint8Array }> {
  const path = sealedStatePath(dir);
  let sealed: Buffer;
  try {
    const st = await stat(path);
    if (st.size > MAX_SEALED_BYTES) {
      throw new DeviceError("SEALED_STATE_CORRUPT", `sealed TSZ state ${path} is too large`);
    }
    sealed = await readFile(path);
  } catch (err) {
    if (err instanceof DeviceError) throw err;
    throw new DeviceError("DEVICE_NOT_FOUND", `no manufactured device in ${dir} (no ${path})`);
  }
  const sealKey = deriveSealKey(await readFuse(dir));
  const { state, upgraded } = parseState(unseal(sealKey, sealed, path));
  // A version 1 state has just been given its HPKE seed: seal it back (atomically) before use,
  // or the next start would derive another key pair than the one carriers were told.
  if (upgraded) await storeSealedState(dir, sealKey, state);
  return { state, sealKey };
}

/**
 * Seals `state` and writes it atomically (atomic-write.ts: temporary file, fsync, rename, fsync
 * of the directory): a crash at any point leaves the previous sealed state or this one, never a
 * mix. A crash before the rename may leave a `.state.sealed.*.tmp` file beside it, which nothing
 * reads.
 */
export async function storeSealedState(
  dir: string,
  sealKey: Uint8Array,
  state: TszState,
): Promise<void> {
  await writeFileAtomic(sealedStatePath(dir), seal(sealKey, serializeState(state)), 0o600);
}
