import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  formatEsn,
  isPseudoEsn,
  isValidEsn,
  normaliseEsn,
  parseEsn,
  pseudoEsn,
} from "../../src/identity/index.js";
import { hexDigits, throwsCode } from "./arbitraries.js";

describe("ESN", () => {
  it("parses manufacturer code and serial", () => {
    assert.deepEqual(parseEsn("0x800737e1"), {
      esn: "800737E1",
      value: 0x800737e1,
      manufacturerCode: 0x80,
      serial: 0x0737e1,
    });
    assert.equal(normaliseEsn("ab123456"), "AB123456");
    assert.equal(formatEsn(0x1f), "0000001F");
    assert.equal(isValidEsn("800737E1"), true);
    for (const bad of ["800737E", "800737E10", "0x800737", "800737G1", " 800737E1", "", "0x"]) {
      assert.equal(isValidEsn(bad), false, bad);
      throwsCode(() => parseEsn(bad), "ESN_INVALID");
    }
    throwsCode(() => formatEsn(2 ** 32), "ESN_INVALID");
    throwsCode(() => formatEsn(-1), "ESN_INVALID");
  });

  it("recognises pseudo-ESNs by manufacturer code 0x80", () => {
    assert.equal(isPseudoEsn("800737E1"), true);
    assert.equal(isPseudoEsn("0x80FFFFFF"), true);
    assert.equal(isPseudoEsn("81000000"), false);
    assert.equal(isPseudoEsn("7FFFFFFF"), false);
    assert.equal(isPseudoEsn("80"), false);
  });

  it("derives the pseudo-ESN from the MEID's 7 bytes, never from its text or check digit", () => {
    const meid = "FF000001123456";
    assert.equal(pseudoEsn(meid), "800737E1");
    assert.equal(pseudoEsn(`${meid}F`), "800737E1"); // with its check digit
    const low24 = (data: Buffer | string) =>
      createHash("sha1").update(data).digest("hex").slice(-6).toUpperCase();
    assert.equal(low24(Buffer.from([0xff, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56])), "0737E1");
    assert.notEqual(low24(meid), "0737E1"); // the ASCII text
    assert.notEqual(low24(Buffer.from("0FF00000112345", "hex")), "0737E1"); // 13 digits + "6" as CD
    throwsCode(() => pseudoEsn("FF00000112345 6"), "MEID_CHARSET");
  });

  it("property: every pseudo-ESN is a well-formed ESN with manufacturer code 0x80", () => {
    fc.assert(
      fc.property(hexDigits(14), (meid) => {
        const esn = pseudoEsn(meid);
        assert.match(esn, /^80[0-9A-F]{6}$/);
        assert.equal(isPseudoEsn(esn), true);
        assert.equal(pseudoEsn(meid.toLowerCase()), esn);
      }),
    );
  });

  it("property: formatEsn and parseEsn are inverse", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (value) => {
        const p = parseEsn(formatEsn(value));
        assert.equal(p.value, value);
        assert.equal(((p.manufacturerCode << 24) >>> 0) + p.serial, value);
      }),
    );
  });
});
