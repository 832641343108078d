// The lock file that gives one process at a time a device folder or a keystore
// (src/threads/process-lock.ts), raced by real processes: of several started together, on a
// free lock or on one its dead holder left, exactly one takes it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { dropProcessLock, takeProcessLock } from "../../src/threads/process-lock.js";

const RACER = fileURLToPath(new URL("./lock-racer.ts", import.meta.url));

/** `n` processes that each try to take the lock at one moment, once all have started. */
function race(path: string, n: number): Promise<string[]> {
  const startAt = Date.now() + 4_000;
  const holdUntil = startAt + 8_000;
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            ["--import", "tsx", RACER, path, String(startAt), String(holdUntil)],
            {
              stdio: ["ignore", "pipe", "inherit"],
            },
          );
          let out = "";
          child.stdout.on("data", (b: Buffer) => {
            out += b.toString();
          });
          child.on("error", reject);
          child.on("close", () => resolve(out.trim()));
        }),
    ),
  );
}

describe("process lock", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "dmguard-lock-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("processes started together on a free lock: exactly one takes it", async () => {
    const path = join(dir, "free.lock");
    const got = await race(path, 5);
    assert.equal(got.filter((g) => g === "taken").length, 1, got.join(", "));
    assert.equal(got.filter((g) => g.startsWith("busy ")).length, 4, got.join(", "));
  });

  test("processes started together on a dead holder's lock: exactly one takes it over", async () => {
    const path = join(dir, "stale.lock");
    // A pid no process has (the kernel's limit is below 2^22).
    await writeFile(path, "4194303 12345\n");
    const got = await race(path, 5);
    assert.equal(got.filter((g) => g === "taken").length, 1, got.join(", "));
  });

  test("this process: taken, taken again, dropped; a live other holder is named", async () => {
    const path = join(dir, "own.lock");
    assert.equal(await takeProcessLock(path), null);
    assert.equal(await takeProcessLock(path), null);
    assert.match(await readFile(path, "ascii"), new RegExp(`^${process.pid} `));
    await dropProcessLock(path);
    await assert.rejects(readFile(path), { code: "ENOENT" });
    // The parent of this process is alive: its lock holds.
    await writeFile(path, `${process.ppid}\n`);
    assert.deepEqual(await takeProcessLock(path), { heldBy: process.ppid });
  });
});
