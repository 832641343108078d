import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { generateRecipientKeyPair, openWrappedKey } from "../../src/keystore/hpke-recipient.js";
import { openSoftwareKeystore } from "../../src/keystore/index.js";
import { rejection, tempDir } from "./helpers.js";

const ACME = "carrier:acme";

/** Every form in which 32 secret bytes could show up. */
function forms(secret: Uint8Array): Array<[string, Buffer]> {
  const b = Buffer.from(secret);
  return [
    ["raw", b],
    ["hex", Buffer.from(b.toString("hex"))],
    ["HEX", Buffer.from(b.toString("hex").toUpperCase())],
    ["base64", Buffer.from(b.toString("base64").replace(/=+$/, ""))],
    ["base64url", Buffer.from(b.toString("base64url"))],
    // A shorter prefix catches a key split or truncated in an encoding.
    ["hex prefix", Buffer.from(b.subarray(0, 12).toString("hex"))],
    ["base64url prefix", Buffer.from(b.subarray(0, 12).toString("base64url"))],
  ];
}

function assertAbsent(haystack: Buffer, secret: Uint8Array, where: string): void {
  for (const [name, needle] of forms(secret))
    assert.equal(haystack.indexOf(needle), -1, `the key (${name}) appears in ${where}`);
}

/** JSON of anything a call returned, with byte arrays as bytes too. */
function dump(values: unknown[]): Buffer {
  const parts: Buffer[] = [];
  const walk = (v: unknown) => {
    if (v instanceof Uint8Array) parts.push(Buffer.from(v));
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
    else parts.push(Buffer.from(String(v)));
  };
  values.forEach(walk);
  parts.push(
    Buffer.from(JSON.stringify(values, (_k, v) => (v instanceof Uint8Array ? [...v] : v))),
  );
  return Buffer.concat(parts);
}

describe("a device key never leaves in the clear", () => {
  test("not in the sealed file, the data directory, errors, or anything returned", async () => {
    const dir = await tempDir();
    const ks = await openSoftwareKeystore({ dir });
    const device = await generateRecipientKeyPair();
    const returned: unknown[] = [];
    const created = await ks.createDeviceKey(ACME, device.publicKey, {
      kid: "leak-test-1",
      extractable: true,
    });
    returned.push(created);
    // The test learns the key the only way anyone can: as the device, from the wrapped blob.
    const key = await openWrappedKey(device.privateKey, created.wrapped);
    const { kid } = created;

    returned.push(await ks.createDeviceKey(ACME, device.publicKey, { kid, extractable: true }));
    returned.push(await ks.keyCheckValue(ACME, kid, "dmguard payload key check value v1"));
    returned.push(
      await ks.verifyKeyProof(ACME, kid, "m", createHmac("sha256", key).update("m").digest()),
    );
    returned.push(await ks.wrapDeviceKey(ACME, kid, (await generateRecipientKeyPair()).publicKey));
    returned.push(await ks.transportPublicKey());
    returned.push(await ks.ensureSigningKey("verdict"));
    returned.push(await ks.signJws("verdict", "{}"));

    const errors = [
      await rejection(ks.forOwner("carrier:b").verifyKeyProof(kid, "m", new Uint8Array(32))),
      await rejection(
        ks.createDeviceKey(ACME, (await generateRecipientKeyPair()).publicKey, { kid }),
      ),
      await rejection(ks.keyCheckValue(ACME, kid, "")),
      await rejection(ks.importDeviceKey(ACME, created.wrapped)),
      await rejection(ks.wrapDeviceKey(ACME, kid, new Uint8Array(65))),
    ];
    await ks.close();

    assertAbsent(dump(returned), key, "returned values");
    for (const e of errors)
      assertAbsent(Buffer.from(`${e.message}\n${e.stack ?? ""}`), key, `error ${e.message}`);
    for (const name of await readdir(dir))
      assertAbsent(await readFile(join(dir, name)), key, `file ${name}`);
  });
});
