import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  deriveRecipientKeyPair,
  generateRecipientKeyPair,
  HPKE_SUITE,
  openWrappedKey,
  type WrappedKey,
} from "../../src/keystore/hpke-recipient.js";
import { type Keystore, openSoftwareKeystore } from "../../src/keystore/index.js";
import { code, tempDir } from "./helpers.js";

const ACME = "carrier:acme";

function flip(b64: string, at: number): string {
  const b = Buffer.from(b64, "base64url");
  b[at] = (b[at] ?? 0) ^ 1;
  return b.toString("base64url");
}

describe("HPKE hand-over to a device TSZ (RFC 9180)", () => {
  let ks: Keystore;
  before(async () => {
    ks = await openSoftwareKeystore({ dir: await tempDir() });
  });
  after(() => ks.close());

  test("the blob names its suite: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM", async () => {
    const a = await generateRecipientKeyPair();
    const { wrapped } = await ks.createDeviceKey(ACME, a.publicKey);
    assert.deepEqual([wrapped.kem, wrapped.kdf, wrapped.aead], [0x10, 0x01, 0x02]);
    assert.deepEqual([HPKE_SUITE.kem, HPKE_SUITE.kdf, HPKE_SUITE.aead], [0x10, 0x01, 0x02]);
    assert.equal(Buffer.from(wrapped.enc, "base64url").length, 65);
    assert.equal(Buffer.from(wrapped.ct, "base64url").length, 48);
  });

  test("a blob for device A does not open with device B's key", async () => {
    const a = await generateRecipientKeyPair();
    const b = await generateRecipientKeyPair();
    const { wrapped } = await ks.createDeviceKey(ACME, a.publicKey);
    await assert.rejects(openWrappedKey(b.privateKey, wrapped), code("UNWRAP_FAILED"));
    assert.equal((await openWrappedKey(a.privateKey, wrapped)).length, 32);
  });

  test("owner and kid are bound: a relabelled blob does not open", async () => {
    const a = await generateRecipientKeyPair();
    const { wrapped } = await ks.createDeviceKey(ACME, a.publicKey);
    const relabelled: WrappedKey[] = [
      { ...wrapped, owner: "carrier:other" },
      { ...wrapped, kid: `${wrapped.kid}x` },
      { ...wrapped, ct: flip(wrapped.ct, 3) },
      { ...wrapped, enc: flip(wrapped.enc, 40) },
    ];
    for (const w of relabelled)
      await assert.rejects(openWrappedKey(a.privateKey, w), code("UNWRAP_FAILED"));
  });

  test("expectations on owner and kid are checked before opening", async () => {
    const a = await generateRecipientKeyPair();
    const { kid, wrapped } = await ks.createDeviceKey(ACME, a.publicKey);
    await assert.rejects(
      openWrappedKey(a.privateKey, wrapped, { owner: "carrier:other" }),
      code("BAD_REQUEST"),
    );
    await assert.rejects(openWrappedKey(a.privateKey, wrapped, { kid: "k" }), code("BAD_REQUEST"));
    assert.equal((await openWrappedKey(a.privateKey, wrapped, { owner: ACME, kid })).length, 32);
  });

  test("malformed blobs → BAD_REQUEST", async () => {
    const a = await generateRecipientKeyPair();
    const { wrapped } = await ks.createDeviceKey(ACME, a.publicKey);
    const bad: unknown[] = [
      null,
      "blob",
      { ...wrapped, kem: 0x20 },
      { ...wrapped, v: 2 },
      { ...wrapped, extra: 1 },
      { ...wrapped, ct: wrapped.ct.slice(2) },
    ];
    for (const w of bad) await assert.rejects(openWrappedKey(a.privateKey, w), code("BAD_REQUEST"));
  });

  test("deriveRecipientKeyPair: one seed, one key pair (a TSZ keeps only the seed)", async () => {
    const seed = new Uint8Array(32).fill(7);
    const one = await deriveRecipientKeyPair(seed);
    const two = await deriveRecipientKeyPair(seed);
    assert.deepEqual(one.publicKey, two.publicKey);
    const { wrapped } = await ks.createDeviceKey(ACME, one.publicKey);
    assert.deepEqual(
      await openWrappedKey(two.privateKey, wrapped),
      await openWrappedKey(one.privateKey, wrapped),
    );
    await assert.rejects(deriveRecipientKeyPair(new Uint8Array(16)), code("BAD_REQUEST"));
  });
});
