import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { openSoftwareKeystore } from "../../src/keystore/index.js";
import { tempDir } from "./helpers.js";

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

describe("crash safety", () => {
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
