import { randomBytes } from "node:crypto";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import {
  closeDefaultTszPool,
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

/**
 * Registers a test file's hooks around its lab: before the file's first test, `open`, then
 * `setup` (what the file builds on the lab); after its last, `close`. One `before` for both:
 * Node 20 starts a file's top-level `before` hooks together, not one after the other, so a
 * second hook could not count on the lab being there. The object returned is filled in with the
 * lab by that hook; tests and later hooks use it as the lab itself (nothing is set at load).
 */
export function labHooks<L extends object>(
  open: () => Promise<L>,
  close: (lab: L) => Promise<void>,
  setup?: (lab: L) => Promise<void>,
): L {
  const lab = {} as L;
  before(async () => {
    Object.assign(lab, await open());
    await setup?.(lab);
  });
  after(() => close(lab));
  return lab;
}

/**
 * A device lab for the whole file. After the last test: `teardown` first (what `setup` opened
 * on the lab: devices, its own TSZ pool, a keystore, a server), then the process-wide TSZ pool,
 * and only then the lab's folder, so that nothing is still open in it when it goes.
 */
export function useLab(
  hooks: { setup?: (lab: Lab) => Promise<void>; teardown?: () => Promise<void> } = {},
): Lab {
  return labHooks(
    makeLab,
    async (lab) => {
      // A teardown that throws (its set-up failed half-way) still leaves nothing open behind.
      try {
        await hooks.teardown?.();
      } finally {
        await closeDefaultTszPool();
        await lab.cleanup();
      }
    },
    hooks.setup,
  );
}

/**
 * A lab made by test/carrier/helpers.ts (its `makeLab`, passed in so that the device-only files
 * do not load the carrier): closed after the last test, then the process-wide TSZ pool.
 */
export function useCarrierLab<L extends { close(): Promise<void> }>(make: () => Promise<L>): L {
  return labHooks(make, async (lab) => {
    await lab.close();
    await closeDefaultTszPool();
  });
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
