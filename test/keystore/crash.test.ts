import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { openSoftwareKeystore } from "../../src/keystore/index.js";
import { exists } from "../support/files.js";
import { ACME, crashedWithJournal, JOURNAL, present, tempDir } from "./helpers.js";

const INDEX = fileURLToPath(new URL("../../src/keystore/index.ts", import.meta.url));
const RECIPIENT = fileURLToPath(new URL("../../src/keystore/hpke-recipient.ts", import.meta.url));

// A child process makes device keys as fast as it can, 16 in flight, and prints each kid with
// the key it unwrapped once createDeviceKey has resolved; it is SIGKILLed mid-stream. Reopened,
// the keystore must open (no half-written file) and hold every acknowledged key.
const CHILD = `
  import { openSoftwareKeystore } from ${JSON.stringify(INDEX)};
  import { generateRecipientKeyPair, openWrappedKey } from ${JSON.stringify(RECIPIENT)};
  const ks = await openSoftwareKeystore({ dir: process.argv[1] });
  const me = await generateRecipientKeyPair();
  const lane = async () => {
    for (;;) {
      const { kid, wrapped } = await ks.createDeviceKey("carrier:acme", me.publicKey);
      const key = await openWrappedKey(me.privateKey, wrapped);
      process.stdout.write(kid + " " + Buffer.from(key).toString("hex") + "\\n");
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
`;

// A child process opens the keystore, optionally makes one more secret (`s-late`), and closes it
// (which folds a journal with entries into a new sealed file), with one of the vault's crash
// points armed: it must die there, by SIGKILL.
const ARMED_CHILD = `
  import { openSoftwareKeystore } from ${JSON.stringify(INDEX)};
  const ks = await openSoftwareKeystore({ dir: process.argv[1] });
  if (process.argv[2] === "write") await ks.forOwner(${JSON.stringify(ACME)}).ensureSecretKey("s-late");
  await ks.close();
`;

function crashAt(point: string, dir: string, write: boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", ARMED_CHILD, dir, write ? "write" : ""],
      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, DMGUARD_CRASH_AT: point } },
    );
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.on("exit", (code, signal) =>
      signal === "SIGKILL"
        ? resolve()
        : reject(new Error(`${point} was not reached (exit ${code}): ${err}`)),
    );
  });
}

describe("crash safety", () => {
  test("SIGKILL at each step of a compaction: every key is kept, and the keystore writes on", async () => {
    for (const [point, journalLeft] of [
      ["keystore.compact.after-snapshot", true],
      ["keystore.compact.after-journal-removed", false],
    ] as const) {
      const dir = await tempDir();
      // s0 in the sealed file, s1…s3 in the journal: closing folds them into a new sealed file.
      const checks = await crashedWithJournal(dir, 3);
      await crashAt(point, dir, false);
      assert.equal(await exists(join(dir, JOURNAL)), journalLeft, point);
      assert.deepEqual(await present(dir, 4), checks, point);
      const ks = await openSoftwareKeystore({ dir });
      await ks.forOwner(ACME).ensureSecretKey("s4");
      await ks.close();
      assert.equal((await present(dir, 5)).length, 5, point);
    }
  });

  test("SIGKILL after the first change's new journal is started: every key is kept", async () => {
    const dir = await tempDir();
    const checks = await crashedWithJournal(dir, 2);
    // Opening and closing folds the journal in: a sealed file and no journal.
    assert.deepEqual(await present(dir, 3), checks);
    assert.equal(await exists(join(dir, JOURNAL)), false);
    await crashAt("keystore.journal.after-start", dir, true);
    assert.equal((await stat(join(dir, JOURNAL))).size, 32, "a journal with its header only");
    assert.deepEqual(await present(dir, 3), checks);
    const ks = await openSoftwareKeystore({ dir });
    await ks.forOwner(ACME).ensureSecretKey("s3");
    await ks.close();
    assert.equal((await present(dir, 4)).length, 4);
  });

  test("SIGKILL while writing: the keystore reopens with every acknowledged key", async () => {
    const dir = await tempDir();
    const acked = new Map<string, Buffer>();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", CHILD, dir],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let buf = "";
      let err = "";
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
      });
      child.stdout.on("data", (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split("\n");
        buf = lines.pop() ?? "";
        for (const l of lines) {
          const [kid, hex] = l.split(" ");
          if (kid && hex) acked.set(kid, Buffer.from(hex, "hex"));
        }
        if (acked.size >= 150) child.kill("SIGKILL");
      });
      child.on("exit", (_code, signal) =>
        signal === "SIGKILL" ? resolve() : reject(new Error(`child ended without kill: ${err}`)),
      );
    });
    const ks = await openSoftwareKeystore({ dir });
    try {
      for (const [kid, key] of acked) {
        const proof = createHmac("sha256", key).update("m").digest();
        assert.equal(await ks.verifyKeyProof("carrier:acme", kid, "m", proof), true, kid);
      }
    } finally {
      await ks.close();
    }
  });

  test("concurrent creations are group-committed and all durable", async () => {
    const dir = await tempDir();
    let ks = await openSoftwareKeystore({ dir });
    const { generateRecipientKeyPair } = await import("../../src/keystore/hpke-recipient.js");
    const me = await generateRecipientKeyPair();
    const made = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        ks.createDeviceKey(`carrier:c${i % 4}`, me.publicKey, { kid: `k${i}` }),
      ),
    );
    await ks.close();
    ks = await openSoftwareKeystore({ dir });
    try {
      for (const [i, m] of made.entries())
        assert.equal((await ks.keyCheckValue(`carrier:c${i % 4}`, m.kid, "x")).length, 16);
    } finally {
      await ks.close();
    }
  });
});
