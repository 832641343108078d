import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { once } from "node:events";
import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { compactVerify, importJWK } from "jose";
import { generateRecipientKeyPair, openWrappedKey } from "../../src/keystore/hpke-recipient.js";
import { openSoftwareKeystore } from "../../src/keystore/index.js";
import { code, tempDir } from "./helpers.js";

const SEALED = "keystore.sealed";
const ACME = "carrier:acme";

/** A keystore with one signing key, one secret and one device key; returns what a test checks. */
async function populated(dir: string) {
  const ks = await openSoftwareKeystore({ dir });
  const jwk = await ks.ensureSigningKey("verdict");
  await ks.forOwner(ACME).ensureSecretKey("tokens");
  const tokenMac = await ks.forOwner(ACME).hmac("tokens", "t");
  const device = await generateRecipientKeyPair();
  const { kid, wrapped } = await ks.createDeviceKey(ACME, device.publicKey);
  const key = await openWrappedKey(device.privateKey, wrapped);
  await ks.close();
  return { jwk, tokenMac, kid, key };
}

describe("sealed at rest", () => {
  test("a restart keeps every key", async () => {
    const dir = await tempDir();
    const { jwk, tokenMac, kid, key } = await populated(dir);
    const ks = await openSoftwareKeystore({ dir });
    try {
      assert.deepEqual(await ks.ensureSigningKey("verdict"), jwk);
      const jws = await ks.signJws("verdict", "{}");
      await compactVerify(jws, await importJWK(jwk, "ES256"));
      assert.deepEqual(await ks.forOwner(ACME).hmac("tokens", "t"), tokenMac);
      const proof = createHmac("sha256", key).update("m").digest();
      assert.equal(await ks.verifyKeyProof(ACME, kid, "m", proof), true);
    } finally {
      await ks.close();
    }
  });

  test("the master key file is created 0600 (32 bytes) and the data directory 0700", async () => {
    const dir = await tempDir();
    const ks = await openSoftwareKeystore({ dir: join(dir, "ks") });
    await ks.close();
    const mk = await stat(join(dir, "ks", "master.key"));
    assert.equal(mk.mode & 0o777, 0o600);
    assert.equal(mk.size, 32);
    assert.equal((await stat(join(dir, "ks"))).mode & 0o777, 0o700);
  });

  test("every byte of the sealed file is authenticated: any edit → SEALED_FILE_CORRUPT, nothing opened", async () => {
    const dir = await tempDir();
    await populated(dir);
    const path = join(dir, SEALED);
    const original = await readFile(path);
    // The magic, the IV, the body, the tag: flip one bit at each.
    for (const at of [0, 24, 30, Math.floor(original.length / 2), original.length - 1]) {
      const edited = Buffer.from(original);
      edited[at] = (edited[at] ?? 0) ^ 0x01;
      await writeFile(path, edited);
      await assert.rejects(
        openSoftwareKeystore({ dir }),
        code("SEALED_FILE_CORRUPT"),
        `byte ${at}`,
      );
    }
    await writeFile(path, original.subarray(0, original.length - 5));
    await assert.rejects(openSoftwareKeystore({ dir }), code("SEALED_FILE_CORRUPT"), "truncated");
    await writeFile(path, Buffer.alloc(0));
    await assert.rejects(openSoftwareKeystore({ dir }), code("SEALED_FILE_CORRUPT"), "empty");
    // The refusals left the file as they found it, and the intact file opens again.
    await writeFile(path, original);
    const ks = await openSoftwareKeystore({ dir });
    await ks.close();
  });

  test("another master key → MASTER_KEY_WRONG; a missing one beside a keystore → MASTER_KEY_MISSING, not re-created", async () => {
    const dir = await tempDir();
    await populated(dir);
    const mkPath = join(dir, "master.key");
    const original = await readFile(mkPath);
    await writeFile(mkPath, randomBytes(32), { mode: 0o600 });
    await assert.rejects(openSoftwareKeystore({ dir }), code("MASTER_KEY_WRONG"));
    const elsewhere = join(await tempDir(), "absent.key");
    await assert.rejects(
      openSoftwareKeystore({ dir, masterKeyFile: elsewhere }),
      code("MASTER_KEY_MISSING"),
    );
    await assert.rejects(stat(elsewhere), "the missing key file was not created");
    await writeFile(mkPath, original);
    await (await openSoftwareKeystore({ dir })).close();
  });

  test("a master key file readable by others → MASTER_KEY_INSECURE; of the wrong length → MASTER_KEY_INVALID", async () => {
    const dir = await tempDir();
    const mk = join(dir, "master.key");
    await writeFile(mk, randomBytes(32), { mode: 0o644 });
    await chmod(mk, 0o644);
    await assert.rejects(openSoftwareKeystore({ dir }), code("MASTER_KEY_INSECURE"));
    await writeFile(mk, randomBytes(31));
    await chmod(mk, 0o600);
    await assert.rejects(openSoftwareKeystore({ dir }), code("MASTER_KEY_INVALID"));
  });

  test("a master key file elsewhere is used and the keys reopen with it", async () => {
    const dir = await tempDir();
    const masterKeyFile = join(await tempDir(), "secrets", "ks.key");
    let ks = await openSoftwareKeystore({ dir, masterKeyFile });
    const jwk = await ks.ensureSigningKey("v");
    await ks.close();
    ks = await openSoftwareKeystore({ dir, masterKeyFile });
    assert.deepEqual(await ks.ensureSigningKey("v"), jwk);
    await ks.close();
  });

  test("a temporary file left by a crash mid-write is ignored and removed", async () => {
    const dir = await tempDir();
    const { jwk } = await populated(dir);
    const tmp = join(dir, `.${SEALED}.deadbeef0000.tmp`);
    await writeFile(tmp, "half a keystore");
    const ks = await openSoftwareKeystore({ dir });
    assert.deepEqual(await ks.ensureSigningKey("verdict"), jwk);
    await ks.close();
    await assert.rejects(stat(tmp));
  });
});

describe("one keystore per data directory", () => {
  test("a second open in this process → KEYSTORE_LOCKED; after close it opens", async () => {
    const dir = await tempDir();
    const ks = await openSoftwareKeystore({ dir });
    await assert.rejects(openSoftwareKeystore({ dir }), code("KEYSTORE_LOCKED"));
    await ks.close();
    await (await openSoftwareKeystore({ dir })).close();
  });

  test("a lock held by another live process → KEYSTORE_LOCKED; by a dead one → taken over", async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], {
      stdio: "ignore",
    });
    try {
      await writeFile(join(dir, "keystore.lock"), `${child.pid}\n`);
      await assert.rejects(openSoftwareKeystore({ dir }), code("KEYSTORE_LOCKED"));
    } finally {
      child.kill();
      await new Promise((r) => child.once("exit", r));
    }
    const ks = await openSoftwareKeystore({ dir });
    const line = (await readFile(join(dir, "keystore.lock"), "ascii")).trim();
    assert.equal(line.split(" ")[0], String(process.pid));
    await ks.close();
    await assert.rejects(stat(join(dir, "keystore.lock")), "released on close");
  });

  test("a holder killed but not yet reaped (a zombie) → taken over", async () => {
    const dir = await tempDir();
    // sh starts a sleeper, prints its pid, then becomes a sleep that never reaps it.
    const parent = spawn("sh", ["-c", "sleep 60 & echo $!; exec sleep 30"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const [line] = (await once(parent.stdout, "data")) as [Buffer];
      const pid = Number(line.toString().trim());
      await writeFile(join(dir, "keystore.lock"), `${pid}\n`);
      await assert.rejects(openSoftwareKeystore({ dir }), code("KEYSTORE_LOCKED"));
      process.kill(pid, "SIGKILL");
      // Dead but not reaped: kill(pid, 0) still answers, /proc says Z.
      const until = Date.now() + 5_000;
      while (!/\) Z /.test(await readFile(`/proc/${pid}/stat`, "ascii")) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 20));
      }
      process.kill(pid, 0);
      const ks = await openSoftwareKeystore({ dir });
      await ks.close();
    } finally {
      parent.kill("SIGKILL");
    }
  });

  test("a live process given the holder's pid since (its start time differs) → taken over", async () => {
    const dir = await tempDir();
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], {
      stdio: "ignore",
    });
    try {
      await once(child, "spawn");
      await writeFile(join(dir, "keystore.lock"), `${child.pid} 1\n`);
      const ks = await openSoftwareKeystore({ dir });
      await ks.close();
    } finally {
      child.kill();
      await once(child, "exit");
    }
  });

  test("after close every call → KEYSTORE_CLOSED", async () => {
    const ks = await openSoftwareKeystore({ dir: await tempDir() });
    await ks.close();
    await ks.close();
    await assert.rejects(ks.ensureSigningKey("x"), code("KEYSTORE_CLOSED"));
  });
});
