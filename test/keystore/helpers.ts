import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { isKeystoreError, type KeystoreErrorCode } from "../../src/keystore/index.js";

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
