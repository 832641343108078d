import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, describe, test } from "node:test";
import {
  CompactSign,
  compactVerify,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  type JWK,
} from "jose";
import { isDeviceError } from "../../src/device/errors.js";
import { createOemCa, issueDeviceCertificate, type OemCa } from "../../src/device/oem-ca.js";
import {
  attestationCsr,
  certificateForKey,
  exportPrivateJwk,
  generateAttestationKey,
  importSigningKey,
} from "../../src/device/tsz/attestation-key.js";
import { signEvidence } from "../../src/device/tsz/evidence.js";
import type { TszState } from "../../src/device/tsz/state.js";
import { checkVerdict, pinKey } from "../../src/device/tsz/verdict.js";
import type { CryptoKey } from "../../src/device/webcrypto-types.js";
import { Pkcs10CertificateRequest } from "../../src/device/x509.js";
import type { EvidenceClaims } from "../../src/evidence/evidence-claims.js";
import { verifyKeyProof } from "../../src/evidence/key-proof.js";
import { keyPair } from "../support/keys.js";

const IMEI = "359991011234566";

let ca: OemCa;

before(async () => {
  ca = await createOemCa({ name: "Crypto Test OEM" });
});

describe("attestation key", () => {
  test("its PKCS#10 request names the TSZ, carries its key and verifies; the CA issues from it", async () => {
    const keys = await generateAttestationKey();
    const pem = await attestationCsr(keys, `${IMEI}-x`);
    const csr = new Pkcs10CertificateRequest(pem);
    assert.equal(csr.subject, `CN=dmguard attestation ${IMEI}x`);
    assert.equal(await csr.verify(), true);
    const spki = Buffer.from(await crypto.subtle.exportKey("spki", keys.publicKey));
    assert.deepEqual(Buffer.from(csr.publicKey.rawData), spki);
    const cert = await issueDeviceCertificate(ca, pem, { imei: IMEI, model: "dmg-phone-1" });
    assert.match(await certificateForKey(cert, keys.publicKey), /^[A-Za-z0-9+/]+=*$/);
  });

  test("a certificate for another key, or not a certificate, is refused", async () => {
    const keys = await generateAttestationKey();
    const other = await generateAttestationKey();
    const cert = await issueDeviceCertificate(ca, await attestationCsr(other, IMEI), {
      imei: IMEI,
      model: "dmg-phone-1",
    });
    for (const pem of [cert, "junk"]) {
      await assert.rejects(certificateForKey(pem, keys.publicKey), (e) =>
        isDeviceError(e, "CERTIFICATE_INVALID"),
      );
    }
  });
});

const claims = (nonce: string): EvidenceClaims =>
  ({ eat_nonce: nonce, imei: IMEI, reasons: [] }) as unknown as EvidenceClaims;

describe("evidence signature", () => {
  test("ES256 under the attestation key, the key proof over the payload segment", async () => {
    const keys = await generateAttestationKey();
    const signing = await importSigningKey(await exportPrivateJwk(keys.privateKey));
    const slotKey = new Uint8Array(randomBytes(32));
    const jws = await signEvidence(claims("n-1"), signing, "AAAA", slotKey);
    const { payload } = await compactVerify(jws, keys.publicKey, { algorithms: ["ES256"] });
    assert.equal(JSON.parse(Buffer.from(payload).toString()).eat_nonce, "n-1");
    const header = decodeProtectedHeader(jws);
    assert.deepEqual([header.alg, header.x5c], ["ES256", ["AAAA"]]);
    assert.equal(verifyKeyProof(slotKey, jws, "n-1"), true);
    assert.equal(verifyKeyProof(new Uint8Array(32), jws, "n-1"), false);
    assert.equal(
      "kp" in decodeProtectedHeader(await signEvidence(claims("n"), signing, "A", null)),
      false,
    );
  });

  test("a key that cannot make ES256 signatures is refused when imported", () => {
    const ed = keyPair("ed25519").privateKey;
    const p384 = keyPair("ec", "P-384").privateKey;
    const pub = keyPair("ec").publicKey;
    for (const key of [ed, p384, pub]) {
      const jwk = key.export({ format: "jwk" }) as JWK;
      assert.throws(() => importSigningKey(jwk), {
        name: "TypeError",
        message: "ES256 evidence needs a private EC P-256 attestation key",
      });
    }
  });
});

describe("verdict check", () => {
  let es: { privateKey: CryptoKey; state: TszState };

  before(async () => {
    const k = await generateKeyPair("ES256");
    const pinned = [await pinKey("acme", await exportJWK(k.publicKey))];
    es = { privateKey: k.privateKey, state: { imei: IMEI, pinned } as unknown as TszState };
  });

  const body = (nonce: string) =>
    new TextEncoder().encode(
      JSON.stringify({
        carrier: "acme",
        verdict: "approved",
        reasons: [],
        eat_nonce: nonce,
        imei: IMEI,
        iat: Math.floor(Date.now() / 1000),
      }),
    );

  const refused = async (jws: string, code: Parameters<typeof isDeviceError>[1]) =>
    assert.rejects(checkVerdict(jws, es.state, "n"), (e) => isDeviceError(e, code));

  test("an ES256 verdict under the pinned key is accepted", async () => {
    const jws = await new CompactSign(body("n"))
      .setProtectedHeader({ alg: "ES256" })
      .sign(es.privateKey);
    assert.equal((await checkVerdict(jws, es.state, "n")).verdict, "approved");
  });

  test("an Ed25519 key pinned for a carrier verifies its verdicts", async () => {
    const k = await generateKeyPair("EdDSA");
    const state = {
      imei: IMEI,
      pinned: [await pinKey("acme", await exportJWK(k.publicKey))],
    } as unknown as TszState;
    const jws = await new CompactSign(body("n"))
      .setProtectedHeader({ alg: "EdDSA" })
      .sign(k.privateKey);
    assert.equal((await checkVerdict(jws, state, "n")).carrier, "acme");
    const [h, p, s] = jws.split(".");
    const flipped = Buffer.from(s!, "base64url");
    flipped[0]! ^= 1;
    await assert.rejects(
      checkVerdict(`${h}.${p}.${flipped.toString("base64url")}`, state, "n"),
      (e) => isDeviceError(e, "VERDICT_SIGNATURE_INVALID"),
    );
  });

  test("critical header parameters, bad segments and short signatures are refused", async () => {
    const crit = await new CompactSign(body("n"))
      .setProtectedHeader({ alg: "ES256", crit: ["b64"], b64: true })
      .sign(es.privateKey);
    await refused(crit, "VERDICT_MALFORMED");
    const good = await new CompactSign(body("n"))
      .setProtectedHeader({ alg: "ES256" })
      .sign(es.privateKey);
    const [h, p, s] = good.split(".");
    await refused(`${h}.${p}.${s!.slice(0, -2)}`, "VERDICT_SIGNATURE_INVALID");
    // A segment of 4k+1 characters is no base64url encoding (RFC 4648 §5).
    const odd = (seg: string) => seg + "A".repeat((5 - (seg.length % 4)) % 4 || 4);
    await refused(`${h}.${p}.${odd(s!)}`, "VERDICT_MALFORMED");
    await refused(`${odd(h!)}.${p}.${s}`, "VERDICT_MALFORMED");
    const array = Buffer.from("[]").toString("base64url");
    await refused(`${array}.${p}.${s}`, "VERDICT_MALFORMED");
  });
});
