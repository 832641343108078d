/**
 * The attestation key's thumbprint is SHA-256 of the SPKI as OpenSSL encodes it, whichever way
 * it is computed: P-256 keys (leading zero octets in a coordinate included, where a shortened
 * coordinate would change the hash), other keys, certificates and SPKI PEMs alike.
 */
import assert from "node:assert/strict";
import { createHash, type KeyObject, X509Certificate } from "node:crypto";
import { describe, test } from "node:test";
import { createOemCa } from "../../src/device/index.js";
import { keyThumbprint, pemThumbprint } from "../../src/evidence/index.js";
import { keyPair } from "../support/keys.js";

const viaEncoder = (key: KeyObject) =>
  createHash("sha256")
    .update(key.export({ type: "spki", format: "der" }))
    .digest("base64url");

describe("attestation key thumbprint", () => {
  test("P-256 keys: the same as SHA-256 of the encoder's SPKI, zero-led coordinates too", () => {
    let zeroX = 0;
    let zeroY = 0;
    for (let i = 0; i < 5_000 && (zeroX < 2 || zeroY < 2 || i < 200); i++) {
      const { publicKey } = keyPair("ec");
      const { x, y } = publicKey.export({ format: "jwk" });
      if (Buffer.from(x!, "base64url")[0] === 0) zeroX++;
      if (Buffer.from(y!, "base64url")[0] === 0) zeroY++;
      assert.equal(keyThumbprint(publicKey), viaEncoder(publicKey));
    }
    assert.ok(zeroX >= 2 && zeroY >= 2, "keys with a zero-led coordinate were among them");
  });

  test("other keys go through the encoder", () => {
    for (const key of [keyPair("ec", "P-384").publicKey, keyPair("ed25519").publicKey]) {
      assert.equal(keyThumbprint(key), viaEncoder(key));
    }
  });

  test("a certificate PEM and its key's SPKI PEM give one thumbprint; only P-256 is taken", async () => {
    const ca = await createOemCa({ name: "Thumbprint Test OEM" });
    const cert = ca.certificatePem;
    const key = new X509Certificate(cert).publicKey;
    const spkiPem = key.export({ type: "spki", format: "pem" }) as string;
    assert.equal(pemThumbprint(cert), viaEncoder(key));
    assert.equal(pemThumbprint(spkiPem), viaEncoder(key));
    const p384 = keyPair("ec", "P-384").publicKey;
    assert.throws(
      () => pemThumbprint(p384.export({ type: "spki", format: "pem" }) as string),
      /not a P-256 key/,
    );
    assert.throws(() =>
      pemThumbprint("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
    );
  });
});
