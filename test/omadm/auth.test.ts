import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import {
  basicCredential,
  computeMac,
  constantTimeEqual,
  credUser,
  decodeNonce,
  formatHmacHeader,
  makeChal,
  makeCred,
  md5Credential,
  newNonce,
  parseBasicCredential,
  parseHmacHeader,
  schemeFromAccountType,
  schemeFromTypeUri,
  signBody,
  verifyBasic,
  verifyCred,
  verifyMac,
  verifyMd5,
} from "../../src/omadm/auth/index.js";
import { ProtocolError } from "../../src/omadm/errors.js";

// OMA-TS-DM_Protocol-V1_2_1 §2.4.4 vectors, recomputed in shared/fixtures/omadm/SOURCES.md.
const USER = "Bruce2";
const PASSWORD = "OhBehave";
const NONCE = new TextEncoder().encode("Nonce");

describe("syncml:auth-basic", () => {
  test("matches the specification vector", () => {
    assert.equal(basicCredential(USER, PASSWORD), "QnJ1Y2UyOk9oQmVoYXZl");
  });
  test("verifies and parses, passwords may hold colons", () => {
    assert.equal(verifyBasic("QnJ1Y2UyOk9oQmVoYXZl", USER, PASSWORD), true);
    assert.equal(verifyBasic("QnJ1Y2UyOk9oQmVoYXZl", USER, "ohbehave"), false);
    assert.deepEqual(parseBasicCredential(basicCredential("u", "a:b")), {
      user: "u",
      password: "a:b",
    });
    assert.equal(parseBasicCredential(Buffer.from("nocolon").toString("base64")), undefined);
  });
});

describe("syncml:auth-md5", () => {
  test("matches the specification vector", () => {
    assert.equal(md5Credential(USER, PASSWORD, NONCE), "Zz6EivR3yeaaENcRN6lpAQ==");
    assert.equal(verifyMd5("Zz6EivR3yeaaENcRN6lpAQ==", USER, PASSWORD, NONCE), true);
  });
  test("a stale nonce fails", () => {
    assert.equal(verifyMd5("Zz6EivR3yeaaENcRN6lpAQ==", USER, PASSWORD, decodeNonce("AAAA")), false);
  });
  test("uses the decoded NextNonce octets", () => {
    const chal = makeChal("md5", NONCE);
    assert.equal(chal.meta.nextNonce, "Tm9uY2U=");
    const nonce = decodeNonce(chal.meta.nextNonce);
    assert.equal(md5Credential(USER, PASSWORD, nonce), "Zz6EivR3yeaaENcRN6lpAQ==");
  });
});

describe("x-syncml-hmac", () => {
  const body = new TextEncoder().encode("<SyncML>…</SyncML>");
  const nonce = newNonce();
  test("is H(B64(H(user:pass)):nonce:B64(H(body))) per Security §5.1.4.2", () => {
    const h = (x: Uint8Array | string) => createHash("md5").update(x).digest();
    const key = h(`${USER}:${PASSWORD}`).toString("base64");
    const expected = h(
      Buffer.concat([Buffer.from(`${key}:`), nonce, Buffer.from(`:${h(body).toString("base64")}`)]),
    ).toString("base64");
    assert.equal(computeMac(USER, PASSWORD, nonce, body), expected);
  });
  test("verifies, and fails on a changed body, nonce or password", () => {
    const mac = computeMac(USER, PASSWORD, nonce, body);
    assert.equal(verifyMac(mac, USER, PASSWORD, nonce, body), true);
    assert.equal(verifyMac(mac, USER, PASSWORD, nonce, new TextEncoder().encode("x")), false);
    assert.equal(verifyMac(mac, USER, PASSWORD, newNonce(), body), false);
    assert.equal(verifyMac(mac, USER, "wrong", nonce, body), false);
  });
  test("header round-trips, with quoting", () => {
    const header = signBody('Robert "RJ" Jordan', PASSWORD, nonce, body);
    const parsed = parseHmacHeader(header);
    assert.equal(parsed.username, 'Robert "RJ" Jordan');
    assert.equal(parsed.algorithm, "MD5");
    assert.equal(verifyMac(parsed.mac, 'Robert "RJ" Jordan', PASSWORD, nonce, body), true);
  });
  test("parses the specification example, algorithm optional", () => {
    const ex = parseHmacHeader(
      'algorithm=MD5, username="Robert Jordan",\r\n mac=NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk',
    );
    assert.deepEqual(ex, {
      algorithm: "MD5",
      username: "Robert Jordan",
      mac: "NTI2OTJhMDAwNjYxODkwYmQ3NWUxN2RhN2ZmYmJlMzk",
    });
    assert.equal(parseHmacHeader('username="a", mac=QUJD').algorithm, "MD5");
    assert.equal(formatHmacHeader("a", "QUJD"), 'algorithm=MD5, username="a", mac=QUJD');
  });
  test("rejects malformed headers with AUTH_FAILED", () => {
    for (const bad of [
      "",
      'username="a"',
      "mac=QUJD",
      'algorithm=SHA1, username="a", mac=QUJD',
      'username="a, mac=QUJD',
      'username="a", mac=not base64!',
      'username="a", username="b", mac=QUJD',
    ]) {
      assert.throws(
        () => parseHmacHeader(bad),
        (e: unknown) => e instanceof ProtocolError && e.code === "AUTH_FAILED",
        bad,
      );
    }
  });
});

describe("Cred and Chal", () => {
  const who = { name: USER, secret: PASSWORD, nonce: NONCE };
  test("build and verify", () => {
    const basic = makeCred("basic", who);
    assert.deepEqual(basic, {
      meta: { type: "syncml:auth-basic", format: "b64" },
      data: "QnJ1Y2UyOk9oQmVoYXZl",
    });
    assert.equal(verifyCred(basic, who), true);
    const md5 = makeCred("md5", who);
    assert.equal(md5.data, "Zz6EivR3yeaaENcRN6lpAQ==");
    assert.equal(verifyCred(md5, who), true);
    assert.equal(verifyCred(md5, { ...who, nonce: new Uint8Array(0) }), false);
    assert.equal(credUser(basic, undefined), USER);
    assert.equal(credUser(md5, "Bruce2"), USER);
    assert.equal(verifyCred({ meta: { type: "syncml:auth-x509" }, data: "x" }, who), false);
  });
  test("chal: basic has no nonce, md5 and MAC do", () => {
    assert.equal(makeChal("basic").meta.nextNonce, undefined);
    assert.equal(makeChal("hmac", NONCE).meta.type, "syncml:auth-MAC");
  });
  test("scheme names", () => {
    assert.equal(schemeFromTypeUri("syncml:auth-mac"), "hmac");
    assert.equal(schemeFromAccountType("DIGEST"), "md5");
    assert.equal(schemeFromAccountType("BASIC"), "basic");
    assert.equal(schemeFromAccountType("HMAC"), "hmac");
    assert.equal(schemeFromAccountType("X509"), undefined);
  });
  test("constant-time comparison handles unequal lengths", () => {
    assert.equal(constantTimeEqual("abc", "abc"), true);
    assert.equal(constantTimeEqual("abc", "abcd"), false);
  });
});
