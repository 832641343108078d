import assert from "node:assert/strict";
import { createHmac, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { describe, test } from "node:test";
import { CompactSign, exportJWK, type JWK } from "jose";
import {
  type CompactJwsProblem,
  decodeCompactJws,
  type JwsAlgorithm,
  verifyCompactJws,
} from "../../src/evidence/compact-jws.js";
import { jwsAlgorithmFor, jwsPublicKey } from "../../src/evidence/jws-public-key.js";

const es = generateKeyPairSync("ec", { namedCurve: "P-256" });
const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ed = generateKeyPairSync("ed25519");
const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });

const MAX = 16 * 1024;
const CLAIMS = { eat_nonce: "bm9uY2Utbm9uY2U", imei: "359991011234566", verdict: "approved" };

/** A segment of `v`: a string's UTF-8 or octets as they are, anything else as JSON. */
const seg = (v: unknown): string =>
  Buffer.from(typeof v === "string" || v instanceof Uint8Array ? v : JSON.stringify(v)).toString(
    "base64url",
  );

/** `h.p` with an ES256 signature by `key` (node:crypto, R ‖ S). */
function es256(h: string, p: string, key: KeyObject = es.privateKey): string {
  const input = Buffer.from(`${h}.${p}`);
  return `${h}.${p}.${sign("sha256", input, { key, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
}

const HEADER = seg({ alg: "ES256" });
const PAYLOAD = seg(CLAIMS);
const GOOD = es256(HEADER, PAYLOAD);

/** Decoded and verified under `key`: the payload, or the first problem found. */
function check(
  compact: unknown,
  key: KeyObject = es.publicKey,
  algorithms: readonly JwsAlgorithm[] = ["ES256"],
): Record<string, unknown> | CompactJwsProblem {
  const d = decodeCompactJws(compact, { maxChars: MAX, algorithms });
  if (!d.ok) return d.problem;
  const v = verifyCompactJws(d.jws, key);
  return v.ok ? v.payload : v.problem;
}

/**
 * Another spelling of a segment whose length is 4k+2 or 4k+3: the last character's unused low
 * bits set. Lenient decoders read the same octets from it.
 */
function respell(segment: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  assert.notEqual(segment.length % 4, 0, "the segment has no unused bits");
  const last = alphabet.indexOf(segment.at(-1)!);
  const out = segment.slice(0, -1) + alphabet[last | 1];
  assert.deepEqual(Buffer.from(out, "base64url"), Buffer.from(segment, "base64url"));
  return out;
}

describe("decodeCompactJws and verifyCompactJws", () => {
  test("a good ES256 token (signed by jose) verifies, its parts as sent", async () => {
    const jws = await new CompactSign(Buffer.from(JSON.stringify(CLAIMS)))
      .setProtectedHeader({ alg: "ES256", kid: "k-1" })
      .sign(es.privateKey);
    const d = decodeCompactJws(jws, { maxChars: MAX, algorithms: ["ES256"] });
    assert.ok(d.ok);
    assert.equal(d.jws.alg, "ES256");
    assert.deepEqual(d.jws.header, { alg: "ES256", kid: "k-1" });
    assert.equal(d.jws.payloadSegment, jws.split(".")[1]);
    assert.deepEqual(verifyCompactJws(d.jws, es.publicKey), { ok: true, payload: CLAIMS });
    assert.deepEqual(check(GOOD), CLAIMS);
  });

  test("a good EdDSA token verifies where EdDSA is accepted, and only there", async () => {
    const jws = await new CompactSign(Buffer.from(JSON.stringify(CLAIMS)))
      .setProtectedHeader({ alg: "EdDSA" })
      .sign(ed.privateKey);
    assert.deepEqual(check(jws, ed.publicKey, ["ES256", "EdDSA"]), CLAIMS);
    assert.equal(check(jws, ed.publicKey, ["ES256"]), "alg");
    const [h, p, s] = jws.split(".") as [string, string, string];
    const flipped = Buffer.from(s, "base64url");
    flipped[0]! ^= 1;
    assert.equal(check(`${h}.${p}.${seg(flipped)}`, ed.publicKey, ["EdDSA"]), "signature");
  });

  test("not three non-empty base64url segments within the limit → shape", () => {
    const [h, p, s] = GOOD.split(".") as [string, string, string];
    const cases: Array<[string, unknown]> = [
      ["two parts", `${h}.${p}`],
      ["four parts", `${GOOD}.${s}`],
      ["an empty signature (alg none's form)", `${seg({ alg: "none" })}.${p}.`],
      ["an empty payload", `${h}..${s}`],
      ["padding on the header", `${h}=.${p}.${s}`],
      ["padding on the signature", `${h}.${p}.${s}==`],
      ["base64 '+' and '/'", `${h}.${p}.${s.replace(/-|_/g, "+").slice(0, -1)}/`],
      ["a stray space", `${h}.${p} .${s}`],
      ["a stray newline", `${GOOD}\n`],
      ["not a string", { compact: GOOD }],
      ["over the limit", es256(h, seg({ ...CLAIMS, pad: "x".repeat(MAX) }))],
    ];
    for (const [what, bad] of cases) assert.equal(check(bad), "shape", what);
    // The limit itself is allowed.
    const d = decodeCompactJws(GOOD, { maxChars: GOOD.length, algorithms: ["ES256"] });
    assert.ok(d.ok);
  });

  test("a header that is not canonical base64url of a UTF-8 JSON object → header", () => {
    // A header of 4k+2 characters, so it has spare bits to set.
    const h = seg({ alg: "ES256", kid: "abcd" });
    assert.equal(h.length % 4, 2);
    assert.deepEqual(check(es256(h, PAYLOAD)), CLAIMS);
    const cases: Array<[string, string]> = [
      ["4k+1 characters", `${h}A`],
      ["spare bits set", respell(h)],
      ["not JSON", seg("alg=ES256")],
      ["a JSON array", seg([{ alg: "ES256" }])],
      ["JSON null", seg(null)],
      ["a JSON string", seg("ES256")],
      [
        "not UTF-8",
        seg(Buffer.concat([Buffer.from('{"alg":"ES256","x":"'), Buffer.from([0xff, 0x22, 0x7d])])),
      ],
      ["a byte order mark", seg(`\uFEFF${JSON.stringify({ alg: "ES256" })}`)],
    ];
    for (const [what, bad] of cases) assert.equal(check(es256(bad, PAYLOAD)), "header", what);
  });

  test("alg none, HS256, ES384, missing or not a string → alg", () => {
    const none = `${seg({ alg: "none" })}.${PAYLOAD}.${seg(Buffer.alloc(64))}`;
    const hsHeader = seg({ alg: "HS256" });
    const hs = createHmac("sha256", "shared secret")
      .update(`${hsHeader}.${PAYLOAD}`)
      .digest("base64url");
    const es384Header = seg({ alg: "ES384" });
    const es384 = sign("sha384", Buffer.from(`${es384Header}.${PAYLOAD}`), {
      key: p384.privateKey,
      dsaEncoding: "ieee-p1363",
    }).toString("base64url");
    const cases: Array<[string, string]> = [
      ["none", none],
      ["HS256", `${hsHeader}.${PAYLOAD}.${hs}`],
      ["ES384", `${es384Header}.${PAYLOAD}.${es384}`],
      ["missing", es256(seg({ kid: "k" }), PAYLOAD)],
      ["lower case", es256(seg({ alg: "es256" }), PAYLOAD)],
      ["a list", es256(seg({ alg: ["ES256"] }), PAYLOAD)],
    ];
    for (const [what, bad] of cases) assert.equal(check(bad), "alg", what);
  });

  test("crit, understood by nobody here → crit; crit that is not a list → crit-invalid", () => {
    // jose would accept this one: it knows b64 (RFC 7797).
    const b64 = es256(seg({ alg: "ES256", crit: ["b64"], b64: true }), PAYLOAD);
    assert.equal(check(b64), "crit");
    assert.equal(check(es256(seg({ alg: "ES256", crit: [] }), PAYLOAD)), "crit");
    assert.equal(check(es256(seg({ alg: "ES256", crit: "b64" }), PAYLOAD)), "crit-invalid");
  });

  test("a payload or signature segment that is not canonical base64url → encoding", () => {
    const [h, p, s] = GOOD.split(".") as [string, string, string];
    assert.equal(s.length % 4, 2);
    const cases: Array<[string, string]> = [
      ["signature of 4k+1 characters", `${h}.${p}.${s}AAA`],
      ["payload of 4k+1 characters", `${h}.${p}${"A".repeat((5 - (p.length % 4)) % 4 || 4)}.${s}`],
      // The same 64 octets, spelled otherwise: it would verify if read leniently.
      ["signature with spare bits set", `${h}.${p}.${respell(s)}`],
    ];
    for (const [what, bad] of cases) assert.equal(check(bad), "encoding", what);
    const p2 = seg({ ...CLAIMS, n: 1 });
    assert.notEqual(p2.length % 4, 0);
    assert.equal(check(es256(h, respell(p2))), "encoding", "payload with spare bits set");
  });

  test("63 or 65 octets, another key's signature, a tampered payload → signature", () => {
    const [h, p, s] = GOOD.split(".") as [string, string, string];
    const sig = Buffer.from(s, "base64url");
    const cases: Array<[string, string]> = [
      ["63 octets", `${h}.${p}.${seg(sig.subarray(0, 63))}`],
      ["65 octets", `${h}.${p}.${seg(Buffer.concat([sig, Buffer.from([0])]))}`],
      ["another key", es256(h, p, other.privateKey)],
      ["a tampered payload", `${h}.${seg({ ...CLAIMS, verdict: "denied" })}.${s}`],
      ["a tampered header", `${seg({ alg: "ES256", kid: "x" })}.${p}.${s}`],
      [
        "DER rather than R ‖ S",
        `${h}.${p}.${seg(sign("sha256", Buffer.from(`${h}.${p}`), es.privateKey))}`,
      ],
      ["all zero", `${h}.${p}.${seg(Buffer.alloc(64))}`],
    ];
    for (const [what, bad] of cases) assert.equal(check(bad), "signature", what);
    // A payload that is not JSON is not read before its signature is checked.
    assert.equal(check(`${h}.${seg("not json")}.${s}`), "signature");
  });

  test("a signed payload that is not a UTF-8 JSON object → payload, payload-not-object", () => {
    const cases: Array<[string, unknown, CompactJwsProblem]> = [
      ["not JSON", "not json", "payload"],
      ["not UTF-8", Buffer.from([0x22, 0xff, 0x22]), "payload"],
      ["a byte order mark", `\uFEFF${JSON.stringify(CLAIMS)}`, "payload"],
      ["a JSON array", [CLAIMS], "payload-not-object"],
      ["JSON null", null, "payload-not-object"],
      ["a JSON number", 7, "payload-not-object"],
    ];
    for (const [what, payload, problem] of cases) {
      assert.equal(check(es256(HEADER, seg(payload))), problem, what);
    }
  });

  test("a key that is not a public key of the message's algorithm is the caller's error", () => {
    const d = decodeCompactJws(GOOD, { maxChars: MAX, algorithms: ["ES256"] });
    assert.ok(d.ok);
    for (const key of [p384.publicKey, ed.publicKey, es.privateKey]) {
      assert.throws(() => verifyCompactJws(d.jws, key), TypeError);
    }
  });
});

describe("jwsAlgorithmFor and jwsPublicKey", () => {
  test("P-256 is ES256, Ed25519 is EdDSA, anything else none", async () => {
    const esJwk = await exportJWK(es.publicKey);
    const edJwk = await exportJWK(ed.publicKey);
    assert.equal(jwsAlgorithmFor(esJwk), "ES256");
    assert.equal(jwsAlgorithmFor(edJwk), "EdDSA");
    assert.equal(jwsAlgorithmFor(await exportJWK(p384.publicKey)), null);
    assert.equal(jwsAlgorithmFor({ kty: "EC", crv: "P-256", x: esJwk.x! }), null);
    assert.equal(jwsAlgorithmFor({ kty: "oct", k: "c2VjcmV0" }), null);
  });

  test("a public JWK imports once; private members and key_ops that forbid verifying do not", async () => {
    const jwk = await exportJWK(es.publicKey);
    const key = jwsPublicKey(jwk);
    assert.equal(jwsPublicKey(jwk), key);
    assert.deepEqual(check(GOOD, key), CLAIMS);
    assert.deepEqual(check(GOOD, jwsPublicKey({ ...jwk, key_ops: ["verify"] })), CLAIMS);
    const refused: Array<[string, JWK]> = [
      ["private", await exportJWK(es.privateKey)],
      ["sign only", { ...jwk, key_ops: ["sign"] }],
      ["sign and verify", { ...jwk, key_ops: ["verify", "sign"] }],
      ["no operations", { ...jwk, key_ops: [] }],
      ["P-384", await exportJWK(p384.publicKey)],
      ["not a point", { ...jwk, x: "AAAA" }],
    ];
    for (const [what, bad] of refused) assert.throws(() => jwsPublicKey(bad), what);
  });
});
