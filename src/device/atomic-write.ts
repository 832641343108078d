import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Writes `bytes` to `path` so that a crash leaves either the old file or the new one, never a
 * half-written mix: write a temporary file beside it, fsync it, rename it over the target (atomic
 * on POSIX within one filesystem), then fsync the directory so the rename itself is durable.
 * `durable: false` skips both fsyncs (still atomic for readers, not across a power cut): for
 * files that a later durable write commits, like the factory image before the sealed TSZ state.
 */
export async function writeFileAtomic(
  path: string,
  bytes: Uint8Array | string,
  mode = 0o644,
  opts: { durable?: boolean } = {},
): Promise<void> {
  const durable = opts.durable ?? true;
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx", mode);
  try {
    await fh.writeFile(bytes);
    if (durable) await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await chmod(tmp, mode); // the umask may have narrowed `mode` at creation
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (!durable) return;
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
