import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, test } from "node:test";
import fc from "fast-check";
import { unzipSync } from "fflate";
import { crc32 } from "../../src/device/crc32.js";
import { parseBuildProp, setBuildProp } from "../../src/device/normal/build-prop.js";
import { osImageBytes, otaCertsZip } from "../../src/device/normal/factory-image.js";
import { OTA_CERT_ENTRY, within } from "../../src/device/normal/layout.js";
import {
  decodePayload,
  encodeBody,
  encodePayload,
  parsePayloadBody,
  parsePayloadHeader,
} from "../../src/device/normal/payload-format.js";
import { BOOTSTRAP_SCHEMA_ID, type BootstrapBody } from "../../src/device/normal/payload-schema.js";
import { hwmodelFor, ueidForImei } from "../../src/evidence/evidence-claims.js";
import { KCV_LABEL, keyCheckValue } from "../../src/evidence/key-check-value.js";
import { computeKeyProof, keyProofInput } from "../../src/evidence/key-proof.js";

describe("CRC-32", () => {
  test("check values of the zip CRC (ITU-T V.42)", () => {
    assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
    assert.equal(crc32(new Uint8Array()), 0);
    assert.equal(
      crc32(new TextEncoder().encode("The quick brown fox jumps over the lazy dog")),
      0x414fa339,
    );
  });

  test("any one-bit change changes it", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 256 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (data, at, bit) => {
          const changed = data.slice();
          changed[at % data.length]! ^= 1 << bit;
          return crc32(changed) !== crc32(data);
        },
      ),
    );
  });
});

const BODY: BootstrapBody = {
  schema: BOOTSTRAP_SCHEMA_ID,
  dmAccount: {
    serverUri: "https://dm.example/carriers/acme/dm",
    serverId: "acme-dm",
    authType: "HMAC",
    client: { name: "IMEI:359991011234566", secret: "c", nonce: "AAAA" },
    server: { name: "acme-dm", secret: "s", nonce: "AQID" },
  },
  settings: { carrier: "acme", apn: "internet.acme", pollMinutes: 1 },
};

describe("payload format", () => {
  test("encode → parse round-trips header and body", () => {
    const kcv = new Uint8Array(16).fill(7);
    const bytes = encodePayload({ kid: "kid-1", kcv, body: encodeBody(BODY) });
    const { header, body } = decodePayload(bytes);
    assert.equal(header.kid, "kid-1");
    assert.deepEqual(header.kcv, kcv);
    assert.equal(header.headerLength, 33 + 5);
    assert.equal(header.declaredBodySize, bytes.length - header.headerLength);
    assert.equal(header.bodyCrc32, crc32(bytes.subarray(header.headerLength)));
    assert.deepEqual(body, BODY);
    assert.deepEqual([...bytes.subarray(0, 4)], [0x44, 0x4d, 0x50, 0x4c]);
  });

  test("no header parse, whatever the bytes, throws", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        const r = parsePayloadHeader(bytes);
        return r.ok ? r.header.headerLength <= bytes.length : typeof r.problem === "string";
      }),
    );
  });

  test("schema refuses missing, unknown and mistyped fields", () => {
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    assert.equal(parsePayloadBody(enc(BODY)).ok, true);
    const { settings: _s, ...noSettings } = BODY;
    assert.equal(parsePayloadBody(enc(noSettings)).ok, false);
    assert.equal(parsePayloadBody(enc({ ...BODY, schema: "other/1" })).ok, false);
    assert.equal(
      parsePayloadBody(enc({ ...BODY, dmAccount: { ...BODY.dmAccount, serverUri: "ftp://x" } })).ok,
      false,
    );
    assert.equal(
      parsePayloadBody(
        enc({
          ...BODY,
          dmAccount: { ...BODY.dmAccount, client: { ...BODY.dmAccount.client, nonce: "%%" } },
        }),
      ).ok,
      false,
    );
    assert.equal(
      parsePayloadBody(enc({ ...BODY, settings: { ...BODY.settings, pollMinutes: 0.5 } })).ok,
      false,
    );
    assert.equal(parsePayloadBody(new Uint8Array([0xff, 0xfe])).ok, false);
  });
});

describe("key check value and key proof", () => {
  test("KCV = first 16 bytes of HMAC-SHA256(key, label ‖ 0 ‖ kid)", () => {
    const key = new Uint8Array(32).fill(1);
    const mac = createHmac("sha256", key).update(`${KCV_LABEL}\0k1`).digest();
    assert.deepEqual(keyCheckValue(key, "k1"), new Uint8Array(mac.subarray(0, 16)));
    assert.notDeepEqual(keyCheckValue(key, "k1"), keyCheckValue(key, "k2"));
  });

  test("key proof input is label ‖ 0 ‖ nonce ‖ 0 ‖ payload segment", () => {
    assert.equal(
      Buffer.from(keyProofInput("n0nce123", "eyJh")).toString("latin1"),
      "dmguard key proof v1\0n0nce123\0eyJh",
    );
    const key = new Uint8Array(32).fill(2);
    const mac = createHmac("sha256", key)
      .update("dmguard key proof v1\0n0nce123\0eyJh")
      .digest("base64url");
    assert.equal(computeKeyProof(key, "n0nce123", "eyJh"), mac);
  });
});

describe("EAT claim encodings (RFC 9711)", () => {
  test("UEID type 0x03: 14 digit values of the IMEI, no check digit", () => {
    const ueid = Buffer.from(ueidForImei("490154203237518"), "base64url");
    assert.deepEqual([...ueid], [3, 4, 9, 0, 1, 5, 4, 2, 0, 3, 2, 3, 7, 5, 1]);
    const rand = Buffer.from(ueidForImei("12AB"), "base64url");
    assert.equal(rand[0], 0x01);
    assert.equal(rand.length, 17);
  });

  test("hwmodel is at most 32 bytes", () => {
    assert.equal(Buffer.from(hwmodelFor("dmg-phone-1"), "base64url").toString(), "dmg-phone-1");
    assert.equal(Buffer.from(hwmodelFor("x".repeat(40)), "base64url").length, 32);
  });
});

describe("normal-world files", () => {
  test("build.prop parse and edit", () => {
    const text = "# c\nro.build.tags=release-keys\nro.debuggable=0\n";
    assert.equal(parseBuildProp(text).get("ro.build.tags"), "release-keys");
    const edited = setBuildProp(text, "ro.debuggable", "1");
    assert.equal(parseBuildProp(edited).get("ro.debuggable"), "1");
    assert.equal(edited.split("\n").filter((l) => l.startsWith("ro.debuggable")).length, 1);
    assert.equal(parseBuildProp(setBuildProp(text, "ro.secure", "0")).get("ro.secure"), "0");
  });

  test("otacerts.zip is a real zip holding the certificate, same bytes every time", () => {
    const pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    const zip = otaCertsZip(pem);
    assert.equal(new TextDecoder().decode(unzipSync(zip)[OTA_CERT_ENTRY]), pem);
    assert.deepEqual(otaCertsZip(pem), zip);
  });

  test("the OS image is deterministic per model", () => {
    assert.deepEqual(osImageBytes("a"), osImageBytes("a"));
    assert.notDeepEqual(osImageBytes("a"), osImageBytes("b"));
    assert.equal(osImageBytes("a").length, 64 * 1024);
  });

  test("paths cannot leave the device root", () => {
    assert.throws(() => within("/dev/x", "../etc/passwd"), RangeError);
    assert.throws(() => within("/dev/x", "/etc/passwd"), RangeError);
    assert.equal(within("/dev/x", "system/bin/su"), "/dev/x/system/bin/su");
  });
});
