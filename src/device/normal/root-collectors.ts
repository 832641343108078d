import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, open } from "node:fs/promises";
import { parseBuildProp } from "./build-prop.js";
import { DEVICE_PATHS, SU_PATHS, within } from "./layout.js";

/**
 * Root detection's collectors: they read real files and modes under a device root and report
 * facts, never verdicts (the checks in `tsz/checks/root.ts` judge them against the values fused
 * in the TSZ). In this emulation the TSZ worker runs these itself against DEVDIR, as a secure
 * world with its own storage driver would, so a rooted normal world cannot feed it clean facts.
 */
export interface RootFacts {
  /** `su` binaries found (relative paths), from {@link SU_PATHS}. */
  suPaths: string[];
  /** `system/build.prop`, or `null` when missing or unreadable. */
  buildProps: Map<string, string> | null;
  /** Mode bits (`st_mode & 0o7777`) of each asked path; `null` when it is missing. */
  modes: Record<string, number | null>;
  /** SHA-256 (hex) of otacerts.zip, or `null` when missing. */
  otaCertsSha256: string | null;
  /** SHA-256 (hex) of the OS image, or `null` when missing. */
  osImageSha256: string | null;
}

const MAX_BUILD_PROP_BYTES = 64 * 1024;

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/** `su` in the usual paths; `lstat`, so a symlink named su counts as found. */
export async function findSuBinaries(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const rel of SU_PATHS) {
    try {
      await lstat(within(root, rel));
      found.push(rel);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
  return found;
}

export async function readBuildProps(root: string): Promise<Map<string, string> | null> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  try {
    fh = await open(within(root, DEVICE_PATHS.buildProp), "r");
    const buf = Buffer.alloc(MAX_BUILD_PROP_BYTES);
    const { bytesRead } = await fh.read(buf, 0, MAX_BUILD_PROP_BYTES, 0);
    return parseBuildProp(buf.subarray(0, bytesRead).toString("utf8"));
  } catch (err) {
    if (isMissing(err) || (err as NodeJS.ErrnoException).code === "EISDIR") return null;
    throw err;
  } finally {
    await fh?.close();
  }
}

export async function collectModes(
  root: string,
  paths: readonly string[],
): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (const rel of paths) {
    try {
      out[rel] = (await lstat(within(root, rel))).mode & 0o7777;
    } catch (err) {
      if (!isMissing(err)) throw err;
      out[rel] = null;
    }
  }
  return out;
}

/** SHA-256 (hex) of a regular file, streamed; `null` when it is missing or not a file. */
export async function measureFile(root: string, rel: string): Promise<string | null> {
  const path = within(root, rel);
  try {
    const st = await lstat(path);
    if (!st.isFile()) return null;
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export async function collectRootFacts(
  root: string,
  shippedPaths: readonly string[],
): Promise<RootFacts> {
  const [suPaths, buildProps, modes, otaCertsSha256, osImageSha256] = await Promise.all([
    findSuBinaries(root),
    readBuildProps(root),
    collectModes(root, shippedPaths),
    measureFile(root, DEVICE_PATHS.otaCerts),
    measureFile(root, DEVICE_PATHS.osImage),
  ]);
  return { suPaths, buildProps, modes, otaCertsSha256, osImageSha256 };
}
