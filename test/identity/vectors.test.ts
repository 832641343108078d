// The public identity vectors of ../shared/fixtures/identity/VECTORS.md (vendored in
// test/fixtures/shared), as data run by one harness, plus the 3GPP2 S.R0048 MEID check-digit example.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  IdentityError,
  isValidImei,
  luhnCheckDigit,
  meidCheckDigit,
  parseImei,
  pseudoEsn,
} from "../../src/identity/index.js";
import { SHARED_FIXTURES } from "../support/fixtures.js";

type Vector =
  | { kind: "imei-check-digit"; input: string; checkDigit: string; source: string }
  | {
      kind: "imei-valid";
      input: string;
      tac: string;
      serial: string;
      checkDigit: string;
      source: string;
    }
  | { kind: "imei-invalid"; input: string; code: IdentityError["code"]; source: string }
  | { kind: "pesn"; input: string; pesn: string; source: string }
  | { kind: "meid-check-digit"; input: string; checkDigit: string; source: string };

const VECTORS: readonly Vector[] = [
  {
    kind: "imei-check-digit",
    input: "49015420323751",
    checkDigit: "8",
    source: "VECTORS.md row 1 (IMEI article, Wikipedia)",
  },
  {
    kind: "imei-valid",
    input: "490154203237518",
    tac: "49015420",
    serial: "323751",
    checkDigit: "8",
    source: "VECTORS.md row 1, completed",
  },
  {
    kind: "imei-valid",
    input: "493005100592800",
    tac: "49300510",
    serial: "059280",
    checkDigit: "0",
    source: "VECTORS.md row 2 (OMA-TS-DM_Protocol-V1_2_1 §2.6)",
  },
  {
    kind: "imei-invalid",
    input: "490154203237517",
    code: "IMEI_CHECK_DIGIT",
    source: "VECTORS.md row 3",
  },
  {
    // VECTORS.md prints the MEID "FF00000112345 6": the space only groups digits. The 7 hashed
    // bytes are FF 00 00 01 12 34 56 (see src/identity/esn.ts).
    kind: "pesn",
    input: "FF000001123456",
    pesn: "800737E1",
    source: "VECTORS.md row 4 (3GPP2 example)",
  },
  {
    kind: "meid-check-digit",
    input: "AF0123450ABCDE",
    checkDigit: "C",
    source: "3GPP2 S.R0048 example",
  },
  {
    // Decimal-only MEID: the IMEI rule (decimal Luhn), the check digit of IMEI row 1.
    kind: "meid-check-digit",
    input: "49015420323751",
    checkDigit: "8",
    source: "decimal-only rule, VECTORS.md",
  },
];

function run(v: Vector): void {
  switch (v.kind) {
    case "imei-check-digit":
      assert.equal(luhnCheckDigit(v.input), v.checkDigit);
      assert.equal(isValidImei(v.input + v.checkDigit), true);
      return;
    case "imei-valid":
      assert.equal(isValidImei(v.input), true);
      assert.deepEqual(parseImei(v.input), {
        imei: v.input,
        tac: v.tac,
        serial: v.serial,
        checkDigit: v.checkDigit,
      });
      return;
    case "imei-invalid":
      assert.equal(isValidImei(v.input), false);
      assert.throws(
        () => parseImei(v.input),
        (e: unknown) => e instanceof IdentityError && e.code === v.code,
      );
      return;
    case "pesn":
      assert.equal(pseudoEsn(v.input), v.pesn);
      assert.equal(pseudoEsn(v.input.toLowerCase()), v.pesn);
      return;
    case "meid-check-digit":
      assert.equal(meidCheckDigit(v.input), v.checkDigit);
      return;
  }
}

describe("identity vectors", () => {
  for (const v of VECTORS) {
    it(`${v.kind} ${v.input} (${v.source})`, () => run(v));
  }

  const file = `${SHARED_FIXTURES}identity/VECTORS.md`;
  it("every VECTORS.md input is in the table", () => {
    const text = readFileSync(file, "utf8");
    for (const input of [
      "49015420323751",
      "493005100592800",
      "490154203237517",
      "FF000001123456",
    ]) {
      assert.ok(text.includes(`\`${input}\``), `${input} is in VECTORS.md`);
      assert.ok(
        VECTORS.some((v) => v.input === input),
        `${input} is in the harness table`,
      );
    }
    assert.ok(text.includes("0x800737E1"));
  });
});
