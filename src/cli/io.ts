import { readFile } from "node:fs/promises";
import { CliError } from "./exit.js";

/** Reads a whole file, or standard input when no path (or "-") is given. */
export async function readInput(path: string | undefined, maxBytes: number): Promise<Uint8Array> {
  if (path && path !== "-") {
    try {
      const bytes = await readFile(path);
      if (bytes.length > maxBytes) throw tooLarge(path, maxBytes);
      return bytes;
    } catch (err) {
      if (err instanceof CliError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new CliError(`cannot read ${path}: ${code === "ENOENT" ? "no such file" : code}`);
    }
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    total += (chunk as Buffer).length;
    // Stop reading early rather than buffering an unbounded stream.
    if (total > maxBytes) throw tooLarge("standard input", maxBytes);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(what: string, maxBytes: number): CliError {
  return new CliError(`${what} is larger than the ${maxBytes}-byte message limit`);
}

/** Writes bytes to stdout and resolves once they are flushed, so exit codes never cut output. */
export function writeOutput(data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(data, (err) => (err ? reject(err) : resolve()));
  });
}
