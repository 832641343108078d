import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import {
  isKeystoreError,
  type KeystoreErrorCode,
  openSoftwareKeystore,
} from "../../src/keystore/index.js";

export const SEALED = "keystore.sealed";
export const JOURNAL = "keystore.journal";
export const ACME = "carrier:acme";

const made: string[] = [];
after(async () => {
  await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
});

/** A fresh temporary directory, removed when the test file ends. */
export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "dmguard-keystore-"));
  made.push(d);
  return d;
}

/** An assert.rejects predicate: a KeystoreError with this code. */
export function code(c: KeystoreErrorCode): (err: unknown) => boolean {
  return (err) => {
    if (isKeystoreError(err) && err.code === c) return true;
    throw new Error(`expected KeystoreError ${c}, got ${String((err as Error)?.stack ?? err)}`);
  };
}

/** The error a promise rejects with (fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error("expected a rejection");
}

/**
 * A keystore as a crash would leave it: one secret in the sealed file, then `n` more secrets
 * each appended to the journal (copied while the keystore is open, so close's compaction does
 * not fold them in). Returns each secret's check value, in order.
 */
export async function crashedWithJournal(dir: string, n: number): Promise<string[]> {
  let ks = await openSoftwareKeystore({ dir });
  await ks.forOwner(ACME).ensureSecretKey("s0");
  await ks.close();
  ks = await openSoftwareKeystore({ dir });
  const checks = [await ks.forOwner(ACME).hmac("s0", "x")];
  for (let i = 1; i <= n; i++) {
    await ks.forOwner(ACME).ensureSecretKey(`s${i}`);
    checks.push(await ks.forOwner(ACME).hmac(`s${i}`, "x"));
  }
  const sealed = await readFile(join(dir, SEALED));
  const journal = await readFile(join(dir, JOURNAL));
  await ks.close();
  await writeFile(join(dir, SEALED), sealed);
  await writeFile(join(dir, JOURNAL), journal);
  return checks.map((c) => Buffer.from(c).toString("hex"));
}

/** The check values of the secrets s0…s(count-1) the keystore in `dir` holds, in order. */
export async function present(dir: string, count: number): Promise<string[]> {
  const ks = await openSoftwareKeystore({ dir });
  try {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const mac = await ks
        .forOwner(ACME)
        .hmac(`s${i}`, "x")
        .catch(() => null);
      if (mac) out.push(Buffer.from(mac).toString("hex"));
    }
    return out;
  } finally {
    await ks.close();
  }
}
