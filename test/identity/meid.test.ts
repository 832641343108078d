import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  generateMeid,
  imeiFromMeid,
  isValidImei,
  isValidMeid,
  luhnCheckDigitHex,
  makeImei,
  meidBytes,
  meidCheckDigit,
  meidFromImei,
  normaliseMeid,
  parseMeid,
} from "../../src/identity/index.js";
import { changeDigit, decimalDigits, hexDigits, replay, seeds, throwsCode } from "./arbitraries.js";

const HEX = "0123456789ABCDEF";

/** MEIDs in the hexadecimal range (RR A0-FF): the base-16 rule always applies to them. */
const hexRangeMeid = fc
  .tuple(fc.integer({ min: 10, max: 15 }), hexDigits(13))
  .map(([first, rest]) => first.toString(16).toUpperCase() + rest);

describe("MEID", () => {
  it("parses fields, normalises to upper case, checks an optional check digit", () => {
    assert.deepEqual(parseMeid("af0123450abcdec"), {
      meid: "AF0123450ABCDE",
      regionalCode: "AF",
      manufacturerCode: "012345",
      serial: "0ABCDE",
      checkDigit: "C",
      decimalOnly: false,
    });
    assert.equal(parseMeid("AF0123450ABCDE").checkDigit, undefined);
    assert.equal(normaliseMeid("af0123450abcde"), "AF0123450ABCDE");
    assert.equal(normaliseMeid("FF000001123456F"), "FF000001123456");
    assert.equal(isValidMeid("AF0123450ABCDEC"), true);
    assert.equal(isValidMeid("AF0123450ABCDED"), false);
  });

  it("says what is wrong", () => {
    throwsCode(() => parseMeid("AF0123450ABCD"), "MEID_LENGTH");
    throwsCode(() => parseMeid("AF0123450ABCDEC0"), "MEID_LENGTH");
    throwsCode(() => parseMeid("FF00000112345 6"), "MEID_CHARSET");
    throwsCode(() => parseMeid("AG0123450ABCDE"), "MEID_CHARSET");
    throwsCode(() => parseMeid("AF0123450ABCDE0"), "MEID_CHECK_DIGIT");
    throwsCode(() => parseMeid(null as unknown as string), "MEID_CHARSET");
  });

  it("yields the 7 bytes, big-endian", () => {
    assert.deepEqual([...meidBytes("FF000001123456")], [0xff, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56]);
  });

  it("decimal-only MEIDs follow the IMEI rule", () => {
    const imei = "490154203237518";
    assert.equal(meidFromImei(imei), "49015420323751");
    assert.equal(parseMeid("49015420323751").decimalOnly, true);
    assert.equal(meidCheckDigit("49015420323751"), "8");
    assert.equal(isValidMeid("490154203237518"), true);
    assert.equal(imeiFromMeid("49015420323751"), imei);
    assert.equal(imeiFromMeid("AF0123450ABCDE"), undefined);
    throwsCode(() => meidFromImei("490154203237517"), "IMEI_CHECK_DIGIT");
  });

  it("property: decimal-only MEID ↔ IMEI round trip", () => {
    fc.assert(
      fc.property(decimalDigits(8), decimalDigits(6), (tac, serial) => {
        const imei = makeImei(tac, serial);
        const meid = meidFromImei(imei);
        assert.equal(imeiFromMeid(meid), imei);
        assert.equal(meid + meidCheckDigit(meid), imei);
      }),
    );
  });

  it("property: the check digit completes a valid MEID, in either case", () => {
    fc.assert(
      fc.property(hexDigits(14), fc.boolean(), (meid, lower) => {
        const full = meid + meidCheckDigit(meid);
        assert.equal(isValidMeid(lower ? full.toLowerCase() : full), true);
        assert.equal(parseMeid(full).checkDigit, meidCheckDigit(meid));
      }),
    );
  });

  it("property: exactly one of the sixteen check digits is valid (hex range)", () => {
    fc.assert(
      fc.property(hexRangeMeid, (meid) => {
        const valid = [...HEX].filter((d) => isValidMeid(meid + d));
        assert.deepEqual(valid, [luhnCheckDigitHex(meid)]);
      }),
    );
  });

  it("property: any one-digit change fails (hex range, base-16 Luhn)", () => {
    // The first digit stays A-F so the MEID stays in the hexadecimal range; a change that made
    // it decimal-only would switch the MEID to the decimal rule.
    fc.assert(
      fc.property(hexRangeMeid, fc.integer({ min: 0, max: 14 }), fc.nat(), (meid, i, shift) => {
        const full = meid + meidCheckDigit(meid);
        const changed =
          i === 0 ? changeDigit(full, 0, shift, "ABCDEF") : changeDigit(full, i, shift, HEX);
        assert.notEqual(changed, full);
        assert.equal(isValidMeid(changed), false);
      }),
    );
  });

  it("property: generateMeid gives a hexadecimal-range MEID that is never an IMEI", () => {
    fc.assert(
      fc.property(seeds, (values) => {
        const meid = generateMeid(replay(values));
        const p = parseMeid(meid);
        assert.equal(p.meid, meid);
        assert.equal(p.decimalOnly, false);
        assert.ok(Number.parseInt(p.regionalCode, 16) >= 0xa0);
        assert.equal(isValidImei(meid + meidCheckDigit(meid)), false);
      }),
    );
    assert.equal(parseMeid(generateMeid()).meid.length, 14);
  });

  it("generateMeid refuses a broken random source", () => {
    throwsCode(() => generateMeid(() => -1), "RANDOM_INVALID");
    throwsCode(() => generateMeid((max) => max), "RANDOM_INVALID");
    throwsCode(() => generateMeid(() => 0.5), "RANDOM_INVALID");
  });
});
