import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  IdentityError,
  imeisvToImei,
  imeiToImeisv,
  isLuhnValid,
  isValidImei,
  isValidImeisv,
  luhnCheckDigit,
  makeImei,
  parseImei,
  parseImeisv,
} from "../../src/identity/index.js";
import { changeDigit, decimalDigits, throwsCode } from "./arbitraries.js";

const validImei = fc.tuple(decimalDigits(8), decimalDigits(6)).map(([t, s]) => makeImei(t, s));

describe("Luhn", () => {
  it("computes the decimal check digit", () => {
    assert.equal(luhnCheckDigit("49015420323751"), "8");
    assert.equal(luhnCheckDigit("0"), "0");
    assert.equal(isLuhnValid("490154203237518"), true);
    assert.equal(isLuhnValid("490154203237517"), false);
    assert.equal(isLuhnValid("8"), false);
  });

  it("refuses non-digit or empty input", () => {
    for (const bad of ["", "12a4", " 1234", "１２"])
      throwsCode(() => luhnCheckDigit(bad), "LUHN_INPUT");
  });
});

describe("IMEI", () => {
  it("says what is wrong", () => {
    throwsCode(() => parseImei("49015420323751"), "IMEI_LENGTH");
    throwsCode(() => parseImei("4901542032375180"), "IMEI_LENGTH");
    throwsCode(() => parseImei(""), "IMEI_LENGTH");
    throwsCode(() => parseImei("49015420323751x"), "IMEI_CHARSET");
    throwsCode(() => parseImei("490154 03237518"), "IMEI_CHARSET");
    throwsCode(() => parseImei(490154203237518 as unknown as string), "IMEI_CHARSET");
    throwsCode(() => parseImei("490154203237517"), "IMEI_CHECK_DIGIT");
  });

  it("carries a stable code and field on the error", () => {
    try {
      parseImei("490154203237517");
      assert.fail("should throw");
    } catch (e) {
      assert.ok(e instanceof IdentityError);
      assert.equal(e.name, "IdentityError");
      assert.equal(e.code, "IMEI_CHECK_DIGIT");
      assert.equal(e.field, "imei");
    }
  });

  it("does not echo a huge input in the message", () => {
    try {
      parseImei("9".repeat(100_000));
      assert.fail("should throw");
    } catch (e) {
      assert.ok(e instanceof IdentityError);
      assert.ok(e.message.length < 200);
    }
  });

  it("makes an IMEI from TAC and serial (string or number)", () => {
    assert.equal(makeImei("49015420", "323751"), "490154203237518");
    assert.equal(makeImei("49300510", 59280), "493005100592800");
    throwsCode(() => makeImei("4901542", "323751"), "TAC_INVALID");
    throwsCode(() => makeImei("4901542a", "323751"), "TAC_INVALID");
    throwsCode(() => makeImei("49015420", "32375"), "SERIAL_INVALID");
    throwsCode(() => makeImei("49015420", 1_000_000), "SERIAL_INVALID");
    throwsCode(() => makeImei("49015420", -1), "SERIAL_INVALID");
    throwsCode(() => makeImei("49015420", 1.5), "SERIAL_INVALID");
  });

  it("property: a generated IMEI always passes and parses back to its parts", () => {
    fc.assert(
      fc.property(decimalDigits(8), decimalDigits(6), (tac, serial) => {
        const imei = makeImei(tac, serial);
        assert.equal(isValidImei(imei), true);
        const p = parseImei(imei);
        assert.equal(p.tac, tac);
        assert.equal(p.serial, serial);
      }),
    );
  });

  it("property: any one-digit change fails", () => {
    fc.assert(
      fc.property(validImei, fc.integer({ min: 0, max: 14 }), fc.nat(), (imei, index, shift) => {
        const changed = changeDigit(imei, index, shift, "0123456789");
        assert.notEqual(changed, imei);
        assert.equal(isValidImei(changed), false);
      }),
    );
  });

  it("property: exactly one check digit of ten is valid", () => {
    fc.assert(
      fc.property(decimalDigits(14), (body) => {
        const valid = [..."0123456789"].filter((d) => isValidImei(body + d));
        assert.deepEqual(valid, [luhnCheckDigit(body)]);
      }),
    );
  });
});

describe("IMEISV", () => {
  it("parses TAC + serial + SVN", () => {
    assert.deepEqual(parseImeisv("4901542032375101"), {
      imeisv: "4901542032375101",
      tac: "49015420",
      serial: "323751",
      svn: "01",
    });
    assert.equal(isValidImeisv("4901542032375101"), true);
    assert.equal(isValidImeisv("490154203237518"), false);
    throwsCode(() => parseImeisv("490154203237518"), "IMEISV_LENGTH");
    throwsCode(() => parseImeisv("49015420323751AB"), "IMEISV_CHARSET");
  });

  it("converts IMEI ↔ IMEISV", () => {
    assert.equal(imeiToImeisv("490154203237518", 1), "4901542032375101");
    assert.equal(imeiToImeisv("490154203237518", "42"), "4901542032375142");
    assert.equal(imeisvToImei("4901542032375142"), "490154203237518");
    throwsCode(() => imeiToImeisv("490154203237517", 1), "IMEI_CHECK_DIGIT");
    throwsCode(() => imeiToImeisv("490154203237518", 100), "SVN_INVALID");
    throwsCode(() => imeiToImeisv("490154203237518", "1"), "SVN_INVALID");
  });

  it("property: IMEI → IMEISV → IMEI is the identity", () => {
    fc.assert(
      fc.property(validImei, fc.integer({ min: 0, max: 99 }), (imei, svn) => {
        const sv = imeiToImeisv(imei, svn);
        assert.equal(sv.length, 16);
        assert.equal(parseImeisv(sv).svn, String(svn).padStart(2, "0"));
        assert.equal(imeisvToImei(sv), imei);
      }),
    );
  });
});
