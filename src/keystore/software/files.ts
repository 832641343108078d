import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { dropProcessLock, takeProcessLock } from "../../threads/process-lock.js";
import { KeystoreError } from "../errors.js";

/** The keystore's files in its data directory. */
export const LOCK_FILE_NAME = "keystore.lock";
export const MASTER_KEY_BYTES = 32;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

async function fsyncDir(dir: string): Promise<void> {
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/**
 * Writes `bytes` so that a crash leaves the old file or the new one, never a mix: a temporary
 * file beside the target (mode 0600), fsync, rename over the target, fsync the directory.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const fh = await open(tmp, "wx", 0o600);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/** Removes temporary files a crash left between write and rename. */
export async function removeStaleTemporaries(dir: string, target: string): Promise<void> {
  const prefix = `.${target}.`;
  for (const name of await readdir(dir))
    if (name.startsWith(prefix) && name.endsWith(".tmp"))
      await rm(join(dir, name), { force: true });
}

export async function readIfExists(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if (errno(err) === "ENOENT") return null;
    throw err;
  }
}

/**
 * Reads the 32-byte master key, or creates it (0600, synced) when it is missing and no sealed
 * keystore exists yet. A missing key beside an existing keystore is never replaced: that would
 * orphan every sealed key.
 */
export async function loadMasterKey(path: string, keystoreExists: boolean): Promise<Buffer> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (err) {
    if (errno(err) !== "ENOENT") throw err;
    if (keystoreExists)
      throw new KeystoreError(
        "MASTER_KEY_MISSING",
        `the master key file ${path} is missing but a sealed keystore exists; restore the key file`,
      );
    return createMasterKey(path);
  }
  if (!st.isFile())
    throw new KeystoreError("MASTER_KEY_INVALID", `the master key ${path} is not a regular file`);
  if ((st.mode & 0o077) !== 0)
    throw new KeystoreError(
      "MASTER_KEY_INSECURE",
      `the master key file ${path} is accessible to group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  const key = await readFile(path);
  if (key.length !== MASTER_KEY_BYTES) {
    key.fill(0);
    throw new KeystoreError(
      "MASTER_KEY_INVALID",
      `the master key file ${path} must hold exactly ${MASTER_KEY_BYTES} bytes`,
    );
  }
  return key;
}

async function createMasterKey(path: string): Promise<Buffer> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(MASTER_KEY_BYTES);
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (err) {
    // Another starter created it first: use theirs.
    if (errno(err) === "EEXIST") return loadMasterKey(path, true);
    throw err;
  }
  try {
    await fh.writeFile(key);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsyncDir(dirname(path));
  return key;
}

/**
 * Takes the data directory's lock file for this process (threads/process-lock.ts). A lock left
 * by a dead process, or by this process (an instance whose worker died without releasing it:
 * the main thread makes sure no live instance of this process holds the directory), is taken
 * over.
 */
export async function acquireLock(dir: string): Promise<void> {
  const held = await takeProcessLock(join(dir, LOCK_FILE_NAME));
  if (held !== null) {
    throw new KeystoreError(
      "KEYSTORE_LOCKED",
      `the keystore in ${dir} is open in another process (pid ${held.heldBy})`,
    );
  }
}

export function releaseLock(dir: string): Promise<void> {
  return dropProcessLock(join(dir, LOCK_FILE_NAME));
}
