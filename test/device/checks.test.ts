import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { crc32 } from "../../src/device/crc32.js";
import {
  encodeBody,
  encodePayload,
  HEADER_OFFSETS,
  kcvOffset,
} from "../../src/device/normal/payload-format.js";
import { BOOTSTRAP_SCHEMA_ID, type BootstrapBody } from "../../src/device/normal/payload-schema.js";
import { checkDeviceIdentity } from "../../src/device/tsz/checks/identity.js";
import {
  checkPayloadCrc,
  checkPayloadFormat,
  checkPayloadKey,
  checkPayloadSize,
} from "../../src/device/tsz/checks/payload.js";
import {
  checkDebuggable,
  checkOsImage,
  checkOtaCerts,
  checkPermissions,
  checkSu,
  checkTestKeys,
} from "../../src/device/tsz/checks/root.js";
import type { Authoritative, SlotState } from "../../src/device/tsz/state.js";
import { keyCheckValue } from "../../src/evidence/key-check-value.js";
import { makeImei } from "../../src/identity/index.js";

const IMEI = makeImei("35999101", 123456);

describe("identity check", () => {
  const fused = { imei: IMEI, meid: null, esn: null, model: "dmg-phone-1" };

  test("fused and reported agree, TAC is the model's → clean", () => {
    assert.deepEqual(checkDeviceIdentity(fused, { imei: IMEI, meid: null }), []);
  });

  test("reported IMEI differs → IDENTITY_MISMATCH only", () => {
    const other = makeImei("35999101", 123457);
    assert.deepEqual(checkDeviceIdentity(fused, { imei: other, meid: null }), [
      "IDENTITY_MISMATCH",
    ]);
    assert.deepEqual(checkDeviceIdentity(fused, { imei: "garbage", meid: null }), [
      "IDENTITY_MISMATCH",
    ]);
  });

  test("fused IMEI with a bad check digit → IDENTITY_MALFORMED", () => {
    const bad = IMEI.slice(0, 14) + String((Number(IMEI[14]) + 1) % 10);
    assert.deepEqual(checkDeviceIdentity({ ...fused, imei: bad }, { imei: bad, meid: null }), [
      "IDENTITY_MALFORMED",
    ]);
  });

  test("TAC of another model → IDENTITY_MODEL", () => {
    const imei = makeImei("35999201", 1);
    assert.deepEqual(checkDeviceIdentity({ ...fused, imei }, { imei, meid: null }), [
      "IDENTITY_MODEL",
    ]);
  });

  test("CDMA: reported MEID differs → IDENTITY_MISMATCH; pESN must be the MEID's", () => {
    const cdma = {
      imei: makeImei("99999401", 42),
      meid: "A0000012345678",
      esn: null,
      model: "dmg-cdma-1",
    };
    assert.deepEqual(checkDeviceIdentity(cdma, { imei: cdma.imei, meid: "a0000012345678" }), []);
    assert.deepEqual(checkDeviceIdentity(cdma, { imei: cdma.imei, meid: "A0000012345679" }), [
      "IDENTITY_MISMATCH",
    ]);
    assert.deepEqual(
      checkDeviceIdentity({ ...cdma, esn: "80000001" }, { imei: cdma.imei, meid: null }),
      ["IDENTITY_MISMATCH"],
    );
  });
});

describe("payload checks", () => {
  const key = new Uint8Array(randomBytes(32));
  const kid = "k1";
  const body: BootstrapBody = {
    schema: BOOTSTRAP_SCHEMA_ID,
    dmAccount: {
      serverUri: "http://127.0.0.1:8080/carriers/acme/dm",
      serverId: "acme-dm",
      authType: "DIGEST",
      client: { name: `IMEI:${IMEI}`, secret: "s1", nonce: "AAECAw==" },
      server: { name: "acme-dm", secret: "s2", nonce: "BAUGBw==" },
    },
    settings: { carrier: "acme", apn: "internet.acme", pollMinutes: 60 },
  };
  const good = encodePayload({ kid, kcv: keyCheckValue(key, kid), body: encodeBody(body) });
  const auth: Authoritative = {
    payloadCrc32: crc32(good),
    payloadSize: good.length,
    osImageSha256: "0".repeat(64),
    otaCertsSha256: "0".repeat(64),
  };
  const slots: Array<SlotState | null> = [
    null,
    { carrier: "acme", kid, key },
    null,
    null,
    null,
    null,
    null,
    null,
  ];

  test("the good payload passes all four", () => {
    assert.deepEqual(checkPayloadSize(good, auth), []);
    assert.deepEqual(checkPayloadCrc(good, auth), []);
    assert.deepEqual(checkPayloadFormat(good), []);
    assert.deepEqual(checkPayloadKey(good, slots), { reasons: [], matchedSlot: 1 });
  });

  test("a missing payload fails all four", () => {
    assert.deepEqual(checkPayloadSize(null, auth), ["PAYLOAD_SIZE"]);
    assert.deepEqual(checkPayloadCrc(null, auth), ["PAYLOAD_CRC"]);
    assert.deepEqual(checkPayloadFormat(null), ["PAYLOAD_FORMAT"]);
    assert.deepEqual(checkPayloadKey(null, slots).reasons, ["PAYLOAD_KEY"]);
  });

  test("size: the declared size field, and the total against the authoritative size", () => {
    const declared = good.slice();
    new DataView(declared.buffer).setUint32(HEADER_OFFSETS.declaredBodySize, 1);
    assert.deepEqual(checkPayloadSize(declared, { ...auth, payloadCrc32: crc32(declared) }), [
      "PAYLOAD_SIZE",
    ]);
    // Appended bytes with a consistent header still differ from the authoritative size.
    const longer = encodePayload({
      kid,
      kcv: keyCheckValue(key, kid),
      body: encodeBody({ ...body, settings: { ...body.settings, apn: "internet.acme.longer" } }),
    });
    assert.deepEqual(checkPayloadSize(longer, auth), ["PAYLOAD_SIZE"]);
  });

  test("CRC: whole payload vs authoritative, and the header's body CRC", () => {
    const flipped = good.slice();
    flipped[flipped.length - 3] ^= 1;
    assert.deepEqual(checkPayloadCrc(flipped, auth), ["PAYLOAD_CRC"]);
    const badHeaderCrc = good.slice();
    new DataView(badHeaderCrc.buffer).setUint32(HEADER_OFFSETS.bodyCrc32, 0);
    assert.deepEqual(
      checkPayloadCrc(badHeaderCrc, { ...auth, payloadCrc32: crc32(badHeaderCrc) }),
      ["PAYLOAD_CRC"],
    );
  });

  test("format: header and schema", () => {
    const magic = good.slice();
    magic[0] = 0x58;
    assert.deepEqual(checkPayloadFormat(magic), ["PAYLOAD_FORMAT"]);
    const version = good.slice();
    version[5] = 2;
    assert.deepEqual(checkPayloadFormat(version), ["PAYLOAD_FORMAT"]);
    const extra = encodePayload({
      kid,
      kcv: keyCheckValue(key, kid),
      body: encodeBody({ ...body, extra: 1 } as BootstrapBody),
    });
    assert.deepEqual(checkPayloadFormat(extra), ["PAYLOAD_FORMAT"]);
    const notJson = encodePayload({
      kid,
      kcv: keyCheckValue(key, kid),
      body: new TextEncoder().encode("{nope"),
    });
    assert.deepEqual(checkPayloadFormat(notJson), ["PAYLOAD_FORMAT"]);
    const badAuth = encodePayload({
      kid,
      kcv: keyCheckValue(key, kid),
      body: encodeBody({ ...body, dmAccount: { ...body.dmAccount, authType: "NONE" as "BASIC" } }),
    });
    assert.deepEqual(checkPayloadFormat(badAuth), ["PAYLOAD_FORMAT"]);
  });

  test("key: KCV of no slot, or of a slot under another key id → PAYLOAD_KEY", () => {
    const wrong = good.slice();
    wrong[kcvOffset(kid.length)] ^= 0xff;
    assert.deepEqual(checkPayloadKey(wrong, slots), { reasons: ["PAYLOAD_KEY"], matchedSlot: -1 });
    const otherKid = encodePayload({
      kid: "k2",
      kcv: keyCheckValue(key, "k2"),
      body: encodeBody(body),
    });
    assert.deepEqual(checkPayloadKey(otherKid, slots).reasons, ["PAYLOAD_KEY"]);
    assert.deepEqual(
      checkPayloadKey(good, [null, null, null, null, null, null, null, null]).reasons,
      ["PAYLOAD_KEY"],
    );
  });

  test("key: found in whichever slot holds it", () => {
    const moved: Array<SlotState | null> = Array.from({ length: 24 }, () => null);
    moved[17] = { carrier: "globex", kid, key };
    moved[3] = { carrier: "acme", kid: "zz", key: new Uint8Array(32) };
    assert.deepEqual(checkPayloadKey(good, moved), { reasons: [], matchedSlot: 17 });
  });
});

describe("root checks", () => {
  test("su", () => {
    assert.deepEqual(checkSu([]), []);
    assert.deepEqual(checkSu(["sbin/su"]), ["ROOT_SU"]);
  });

  test("OTA certificates", () => {
    assert.deepEqual(checkOtaCerts("ab", "ab"), []);
    assert.deepEqual(checkOtaCerts("cd", "ab"), ["ROOT_OTA_CERTS"]);
    assert.deepEqual(checkOtaCerts(null, "ab"), ["ROOT_OTA_CERTS"]);
  });

  test("test-keys", () => {
    assert.deepEqual(checkTestKeys(new Map([["ro.build.tags", "release-keys"]])), []);
    assert.deepEqual(checkTestKeys(new Map([["ro.build.tags", "test-keys"]])), ["ROOT_TEST_KEYS"]);
    assert.deepEqual(checkTestKeys(new Map([["ro.build.tags", "release-keys,test-keys"]])), [
      "ROOT_TEST_KEYS",
    ]);
    assert.deepEqual(checkTestKeys(new Map()), ["ROOT_TEST_KEYS"]);
    assert.deepEqual(checkTestKeys(null), ["ROOT_TEST_KEYS"]);
  });

  test("debuggable", () => {
    assert.deepEqual(
      checkDebuggable(
        new Map([
          ["ro.debuggable", "0"],
          ["ro.secure", "1"],
        ]),
      ),
      [],
    );
    assert.deepEqual(checkDebuggable(new Map()), []);
    assert.deepEqual(checkDebuggable(new Map([["ro.debuggable", "1"]])), ["ROOT_DEBUGGABLE"]);
    assert.deepEqual(checkDebuggable(new Map([["ro.secure", "0"]])), ["ROOT_DEBUGGABLE"]);
  });

  test("permissions: only new setuid, setgid or world-writable bits on shipped paths", () => {
    const shipped = { "system/bin/sh": 0o755, "system/bin/run-as": 0o4750 };
    assert.deepEqual(
      checkPermissions({ "system/bin/sh": 0o755, "system/bin/run-as": 0o4750 }, shipped),
      [],
    );
    assert.deepEqual(checkPermissions({ "system/bin/sh": 0o700 }, shipped), []);
    assert.deepEqual(checkPermissions({ "system/bin/sh": null }, shipped), []);
    assert.deepEqual(checkPermissions({ "system/bin/sh": 0o4755 }, shipped), ["ROOT_PERMISSIONS"]);
    assert.deepEqual(checkPermissions({ "system/bin/sh": 0o2755 }, shipped), ["ROOT_PERMISSIONS"]);
    assert.deepEqual(checkPermissions({ "system/bin/sh": 0o757 }, shipped), ["ROOT_PERMISSIONS"]);
  });

  test("OS image", () => {
    assert.deepEqual(checkOsImage("ab", "ab"), []);
    assert.deepEqual(checkOsImage(null, "ab"), ["OS_MODIFIED"]);
    assert.deepEqual(checkOsImage("ac", "ab"), ["OS_MODIFIED"]);
  });
});
