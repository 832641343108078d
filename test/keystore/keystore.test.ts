import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { calculateJwkThumbprint, compactVerify, decodeProtectedHeader, importJWK } from "jose";
import { generateRecipientKeyPair, openWrappedKey } from "../../src/keystore/hpke-recipient.js";
import { type Keystore, OPERATOR_OWNER, openSoftwareKeystore } from "../../src/keystore/index.js";
import { code, rejection, tempDir } from "./helpers.js";

const ACME = "carrier:acme";
const OTHER = "carrier:other";
const KCV_LABEL = "dmguard payload key check value v1";

function mac(key: Uint8Array, message: string | Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(message).digest());
}

describe("software keystore", () => {
  let ks: Keystore;
  before(async () => {
    ks = await openSoftwareKeystore({ dir: await tempDir() });
  });
  after(() => ks.close());

  describe("signing keys", () => {
    test("signJws verifies under the public JWK (jose), kid = RFC 7638 thumbprint", async () => {
      const jwk = await ks.ensureSigningKey("verdict");
      assert.equal(jwk.kid, await calculateJwkThumbprint(jwk, "sha256"));
      assert.equal(jwk.alg, "ES256");
      assert.equal("d" in jwk, false);
      const jws = await ks.signJws("verdict", JSON.stringify({ v: "approved" }), { typ: "JWT" });
      const { payload, protectedHeader } = await compactVerify(jws, await importJWK(jwk, "ES256"));
      assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), { v: "approved" });
      assert.deepEqual(protectedHeader, { alg: "ES256", kid: jwk.kid, typ: "JWT" });
    });

    test("ensureSigningKey is idempotent, also when called concurrently", async () => {
      const [a, b, c] = await Promise.all([
        ks.ensureSigningKey("concurrent"),
        ks.ensureSigningKey("concurrent"),
        ks.ensureSigningKey("concurrent"),
      ]);
      assert.deepEqual(a, b);
      assert.deepEqual(b, c);
    });

    test("byte payloads, no extra header: only alg and kid", async () => {
      const jwk = await ks.ensureSigningKey("bytes");
      const jws = await ks.signJws("bytes", Uint8Array.of(0, 1, 2, 255));
      assert.deepEqual(decodeProtectedHeader(jws), { alg: "ES256", kid: jwk.kid });
      const { payload } = await compactVerify(jws, await importJWK(jwk, "ES256"));
      assert.deepEqual([...payload], [0, 1, 2, 255]);
    });

    test("the keystore's alg and kid cannot be overridden; crit and b64 are refused", async () => {
      await ks.ensureSigningKey("verdict");
      for (const header of [{ alg: "none" }, { kid: "x" }, { crit: ["exp"] }, { b64: false }])
        await assert.rejects(ks.signJws("verdict", "{}", header), code("BAD_REQUEST"));
    });

    test("an unknown label → KEY_NOT_FOUND", async () => {
      await assert.rejects(ks.signJws("never-made", "{}"), code("KEY_NOT_FOUND"));
    });

    test("tenants' signing keys are apart from the operator's", async () => {
      const op = await ks.ensureSigningKey("shared-name");
      const t = await ks.forOwner(ACME).ensureSigningKey("shared-name");
      assert.notEqual(op.kid, t.kid);
      await assert.rejects(ks.forOwner(OTHER).signJws("shared-name", "{}"), code("KEY_NOT_FOUND"));
    });
  });

  describe("device keys", () => {
    test("createDeviceKey → the device opens it → its proof verifies; a wrong one does not", async () => {
      const device = await generateRecipientKeyPair();
      const { kid, wrapped } = await ks.createDeviceKey(ACME, device.publicKey);
      assert.equal(wrapped.kid, kid);
      assert.equal(wrapped.owner, ACME);
      const key = await openWrappedKey(device.privateKey, wrapped, { owner: ACME, kid });
      assert.equal(key.length, 32);
      const message = `dmguard key proof v1\u0000nonce-123\u0000payload`;
      assert.equal(await ks.verifyKeyProof(ACME, kid, message, mac(key, message)), true);
      assert.equal(await ks.forOwner(ACME).verifyKeyProof(kid, message, mac(key, message)), true);
      assert.equal(await ks.verifyKeyProof(ACME, kid, `${message}!`, mac(key, message)), false);
      assert.equal(
        await ks.verifyKeyProof(ACME, kid, message, mac(randomBytes(32), message)),
        false,
      );
      const truncated = mac(key, message).subarray(0, 16);
      assert.equal(await ks.verifyKeyProof(ACME, kid, message, truncated), false);
      assert.equal(await ks.verifyKeyProof(ACME, kid, message, new Uint8Array(0)), false);
    });

    test("keyCheckValue = first 16 bytes of HMAC(key, label ‖ 0x00 ‖ kid), as the device computes", async () => {
      const device = await generateRecipientKeyPair();
      const { kid, wrapped } = await ks.createDeviceKey(ACME, device.publicKey);
      const key = await openWrappedKey(device.privateKey, wrapped);
      const expected = createHmac("sha256", key)
        .update(KCV_LABEL)
        .update(Uint8Array.of(0))
        .update(kid)
        .digest()
        .subarray(0, 16);
      assert.deepEqual(
        Buffer.from(await ks.keyCheckValue(ACME, kid, KCV_LABEL)),
        Buffer.from(expected),
      );
    });

    test("a JWK recipient key works as the 65-byte form does", async () => {
      const device = await generateRecipientKeyPair();
      const p = device.publicKey;
      const jwk = {
        kty: "EC" as const,
        crv: "P-256" as const,
        x: Buffer.from(p.subarray(1, 33)).toString("base64url"),
        y: Buffer.from(p.subarray(33)).toString("base64url"),
      };
      const { wrapped } = await ks.createDeviceKey(ACME, jwk);
      assert.equal((await openWrappedKey(device.privateKey, wrapped)).length, 32);
    });

    test("an invalid recipient key → RECIPIENT_KEY_INVALID", async () => {
      const device = await generateRecipientKeyPair();
      const off = new Uint8Array(device.publicKey);
      off[40] = (off[40] ?? 0) ^ 1;
      await assert.rejects(ks.createDeviceKey(ACME, off), code("RECIPIENT_KEY_INVALID"));
      await assert.rejects(
        ks.createDeviceKey(ACME, new Uint8Array(33)),
        code("RECIPIENT_KEY_INVALID"),
      );
    });

    test("a caller-chosen kid makes retries idempotent: same key, re-wrapped; another recipient → KEY_EXISTS", async () => {
      const device = await generateRecipientKeyPair();
      const kid = "acme-dev-0001";
      const first = await ks.createDeviceKey(ACME, device.publicKey, { kid });
      const again = await ks.createDeviceKey(ACME, device.publicKey, { kid });
      assert.equal(again.kid, kid);
      assert.notEqual(again.wrapped.enc, first.wrapped.enc);
      assert.deepEqual(
        await openWrappedKey(device.privateKey, again.wrapped),
        await openWrappedKey(device.privateKey, first.wrapped),
      );
      const intruder = await generateRecipientKeyPair();
      await assert.rejects(
        ks.createDeviceKey(ACME, intruder.publicKey, { kid }),
        code("KEY_EXISTS"),
      );
    });

    test("destroyKey: the key is gone; destroying again → KEY_NOT_FOUND", async () => {
      const device = await generateRecipientKeyPair();
      const { kid } = await ks.createDeviceKey(ACME, device.publicKey);
      await ks.destroyKey(ACME, kid);
      await assert.rejects(
        ks.verifyKeyProof(ACME, kid, "m", new Uint8Array(32)),
        code("KEY_NOT_FOUND"),
      );
      await assert.rejects(ks.destroyKey(ACME, kid), code("KEY_NOT_FOUND"));
    });
  });

  describe("tenant isolation", () => {
    test("another owner naming acme's kid fails exactly like an unknown kid", async () => {
      const device = await generateRecipientKeyPair();
      const { kid, wrapped } = await ks.createDeviceKey(ACME, device.publicKey);
      const key = await openWrappedKey(device.privateKey, wrapped);
      const good = mac(key, "m");
      const unknown = "no-such-kid-at-all";
      const other = ks.forOwner(OTHER);
      const pairs: Array<[(k: string) => Promise<unknown>, string]> = [
        [(k) => other.verifyKeyProof(k, "m", good), "verifyKeyProof"],
        [(k) => other.keyCheckValue(k, KCV_LABEL), "keyCheckValue"],
        [(k) => other.wrapDeviceKey(k, device.publicKey), "wrapDeviceKey"],
        [(k) => other.destroyKey(k), "destroyKey"],
        [(k) => ks.verifyKeyProof(OPERATOR_OWNER, k, "m", good), "operator"],
      ];
      for (const [op, name] of pairs) {
        const a = await rejection(op(kid));
        const b = await rejection(op(unknown));
        assert.equal(a.code, "KEY_NOT_FOUND", name);
        assert.equal(a.code, b.code, name);
        assert.equal(a.message.replace(kid, "KID"), b.message.replace(unknown, "KID"), name);
      }
      // And acme still has its key.
      assert.equal(await ks.verifyKeyProof(ACME, kid, "m", good), true);
    });

    test("tenants' secrets are apart: same label, different MACs; absent for a third", async () => {
      const a = ks.forOwner("carrier:a");
      const b = ks.forOwner("carrier:b");
      await a.ensureSecretKey("tokens");
      await b.ensureSecretKey("tokens");
      const ma = await a.hmac("tokens", "t");
      const mb = await b.hmac("tokens", "t");
      assert.notDeepEqual(ma, mb);
      assert.equal(await a.verifyHmac("tokens", "t", ma), true);
      assert.equal(await a.verifyHmac("tokens", "t", mb), false);
      await assert.rejects(ks.forOwner("carrier:c").hmac("tokens", "t"), code("KEY_NOT_FOUND"));
    });

    test("an invalid owner name → BAD_REQUEST", async () => {
      assert.throws(() => ks.forOwner("Carrier A"), code("BAD_REQUEST"));
      const device = await generateRecipientKeyPair();
      await assert.rejects(ks.createDeviceKey("", device.publicKey), code("BAD_REQUEST"));
    });
  });

  describe("secret keys", () => {
    test("hmac is HMAC-SHA256, stable across calls; verifyHmac agrees", async () => {
      await ks.ensureSecretKey("token-hmac");
      await ks.ensureSecretKey("token-hmac");
      const a = await ks.hmac("token-hmac", "abc");
      assert.equal(a.length, 32);
      assert.deepEqual(await ks.hmac("token-hmac", new TextEncoder().encode("abc")), a);
      assert.equal(await ks.verifyHmac("token-hmac", "abc", a), true);
      assert.equal(await ks.verifyHmac("token-hmac", "abd", a), false);
      await assert.rejects(ks.hmac("no-such-secret", "abc"), code("KEY_NOT_FOUND"));
    });
  });

  describe("custody between keystores", () => {
    test("an extractable key wrapped to a platform keystore's transport key is held there under the same owner", async () => {
      const platform = await openSoftwareKeystore({ dir: await tempDir() });
      try {
        const device = await generateRecipientKeyPair();
        const { kid, wrapped } = await ks.createDeviceKey(ACME, device.publicKey, {
          extractable: true,
        });
        const toPlatform = await ks.wrapDeviceKey(ACME, kid, await platform.transportPublicKey());
        assert.deepEqual(await platform.importDeviceKey(ACME, toPlatform), { kid });
        assert.deepEqual(await platform.importDeviceKey(ACME, toPlatform), { kid }, "idempotent");
        const key = await openWrappedKey(device.privateKey, wrapped);
        assert.equal(await platform.verifyKeyProof(ACME, kid, "m", mac(key, "m")), true);
        await assert.rejects(
          platform.verifyKeyProof(OTHER, kid, "m", mac(key, "m")),
          code("KEY_NOT_FOUND"),
        );
        // Imported keys are not extractable again; a blob relabelled for another owner is refused.
        await assert.rejects(
          platform.wrapDeviceKey(ACME, kid, device.publicKey),
          code("KEY_NOT_EXTRACTABLE"),
        );
        await assert.rejects(
          platform.importDeviceKey(OTHER, { ...toPlatform, owner: OTHER }),
          code("UNWRAP_FAILED"),
        );
        await assert.rejects(platform.importDeviceKey(OTHER, toPlatform), code("BAD_REQUEST"));
        // A blob addressed to a device, not to this keystore, does not open here.
        await assert.rejects(platform.importDeviceKey(ACME, wrapped), code("UNWRAP_FAILED"));
      } finally {
        await platform.close();
      }
    });

    test("custody at creation: a non-extractable key wrapped once to the platform too", async () => {
      const platform = await openSoftwareKeystore({ dir: await tempDir() });
      try {
        const device = await generateRecipientKeyPair();
        const transport = await platform.transportPublicKey();
        const made = await ks.createDeviceKey(ACME, device.publicKey, {
          kid: "custody-1",
          custody: transport,
        });
        assert.ok(made.custodyWrapped);
        assert.deepEqual(await platform.importDeviceKey(ACME, made.custodyWrapped), {
          kid: "custody-1",
        });
        const key = await openWrappedKey(device.privateKey, made.wrapped);
        assert.equal(await platform.verifyKeyProof(ACME, "custody-1", "m", mac(key, "m")), true);
        // Still not extractable here; a retry naming another custody recipient is refused.
        await assert.rejects(
          ks.wrapDeviceKey(ACME, "custody-1", transport),
          code("KEY_NOT_EXTRACTABLE"),
        );
        const other = await generateRecipientKeyPair();
        await assert.rejects(
          ks.createDeviceKey(ACME, device.publicKey, {
            kid: "custody-1",
            custody: other.publicKey,
          }),
          code("KEY_EXISTS"),
        );
        const retry = await ks.createDeviceKey(ACME, device.publicKey, {
          kid: "custody-1",
          custody: transport,
        });
        assert.ok(retry.custodyWrapped, "an idempotent retry wraps to the same custody again");
      } finally {
        await platform.close();
      }
    });

    test("keys are not extractable by default", async () => {
      const device = await generateRecipientKeyPair();
      const { kid } = await ks.createDeviceKey(ACME, device.publicKey);
      await assert.rejects(
        ks.wrapDeviceKey(ACME, kid, device.publicKey),
        code("KEY_NOT_EXTRACTABLE"),
      );
    });
  });
});
