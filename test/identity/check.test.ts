import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  checkIdentity,
  DEVICE_MODELS,
  generateImei,
  generateMeid,
  type IdentityClaims,
  type IdentityReason,
  identityProblems,
  makeImei,
  pseudoEsn,
} from "../../src/identity/index.js";
import { changeDigit, replay, seeds } from "./arbitraries.js";

const phone = makeImei("35999101", "000001"); // dmg-phone-1
const badLuhn = phone.slice(0, 14) + ((Number(phone[14]) + 1) % 10);
const cdmaImei = makeImei("99999401", "000001");
const meid = "AF0123450ABCDE";
const pesn = pseudoEsn(meid);

const CASES: readonly { name: string; claims: IdentityClaims; reasons: IdentityReason[] }[] = [
  { name: "clean GSM phone", claims: { imei: phone, model: "dmg-phone-1" }, reasons: [] },
  {
    name: "clean CDMA phone with MEID and pESN",
    claims: { imei: cdmaImei, meid, esn: pesn, model: "dmg-cdma-1" },
    reasons: [],
  },
  {
    name: "clean CDMA phone, MEID with check digit, lower case, no ESN",
    claims: { imei: cdmaImei, meid: "af0123450abcdec", model: "dmg-cdma-1" },
    reasons: [],
  },
  {
    name: "null MEID/ESN count as absent",
    claims: { imei: phone, meid: null, esn: null, model: "dmg-phone-1" },
    reasons: [],
  },
  {
    name: "bad Luhn",
    claims: { imei: badLuhn, model: "dmg-phone-1" },
    reasons: ["IDENTITY_MALFORMED"],
  },
  {
    name: "not 15 digits",
    claims: { imei: "35999101000001", model: "dmg-phone-1" },
    reasons: ["IDENTITY_MALFORMED"],
  },
  {
    name: "TAC of another model",
    claims: { imei: phone, model: "dmg-tablet-1" },
    reasons: ["IDENTITY_MODEL"],
  },
  {
    name: "TAC not in the table",
    claims: { imei: "490154203237518", model: "dmg-phone-1" },
    reasons: ["IDENTITY_MODEL"],
  },
  {
    name: "unknown model",
    claims: { imei: phone, model: "dmg-phone-9" },
    reasons: ["IDENTITY_MODEL"],
  },
  {
    name: "ESN that is not the MEID's pESN",
    claims: { imei: cdmaImei, meid, esn: "800737E1", model: "dmg-cdma-1" },
    reasons: ["IDENTITY_MISMATCH"],
  },
  {
    name: "malformed MEID",
    claims: { imei: cdmaImei, meid: "AF0123450ABCDE0", esn: pesn, model: "dmg-cdma-1" },
    reasons: ["IDENTITY_MALFORMED"],
  },
  {
    name: "malformed ESN",
    claims: { imei: cdmaImei, meid, esn: "80-0737E1", model: "dmg-cdma-1" },
    reasons: ["IDENTITY_MALFORMED"],
  },
  {
    name: "CDMA model without MEID",
    claims: { imei: cdmaImei, model: "dmg-cdma-1" },
    reasons: ["IDENTITY_MODEL"],
  },
  {
    name: "GSM model with an MEID",
    claims: { imei: phone, meid, model: "dmg-phone-1" },
    reasons: ["IDENTITY_MODEL"],
  },
  {
    name: "normal world reports another IMEI (imei-rewrite)",
    claims: { imei: phone, reportedImei: "359991010000025", model: "dmg-phone-1" },
    reasons: ["IDENTITY_MISMATCH"],
  },
  {
    name: "normal world reports garbage: a mismatch, not malformed",
    claims: { imei: phone, reportedImei: "not an imei", model: "dmg-phone-1" },
    reasons: ["IDENTITY_MISMATCH"],
  },
  {
    name: "normal world reports the same IMEI",
    claims: { imei: phone, reportedImei: phone, model: "dmg-phone-1" },
    reasons: [],
  },
  {
    name: "several problems: union in CONTRACT order",
    claims: { imei: badLuhn, meid, esn: "80000000", model: "dmg-tablet-1" },
    reasons: ["IDENTITY_MALFORMED", "IDENTITY_MISMATCH", "IDENTITY_MODEL"],
  },
];

describe("checkIdentity", () => {
  for (const c of CASES) {
    it(c.name, () => assert.deepEqual(checkIdentity(c.claims), c.reasons));
  }

  it("explains each problem with its field", () => {
    const problems = identityProblems({ imei: phone, meid, esn: "800737E1", model: "dmg-cdma-1" });
    assert.equal(problems.length, 2);
    assert.deepEqual(
      problems.map((p) => [p.reason, p.field]),
      [
        ["IDENTITY_MISMATCH", "esn"],
        ["IDENTITY_MODEL", "imei"],
      ],
    );
    assert.match(problems[0]!.detail, /pseudo-ESN/);
  });

  it("property: a generated identity for any model is clean", () => {
    fc.assert(
      fc.property(fc.constantFrom(...DEVICE_MODELS), seeds, (model, values) => {
        const rng = replay(values);
        const imei = generateImei(model.name, rng);
        const claims: IdentityClaims = model.cdma
          ? { imei, meid: generateMeid(rng), model: model.name }
          : { imei, model: model.name };
        if (claims.meid) claims.esn = pseudoEsn(claims.meid);
        assert.deepEqual(checkIdentity({ ...claims, reportedImei: imei }), []);
      }),
    );
  });

  it("property: any one-digit change of the IMEI is reported malformed", () => {
    fc.assert(
      fc.property(seeds, fc.integer({ min: 0, max: 14 }), fc.nat(), (values, i, shift) => {
        const imei = changeDigit(
          generateImei("dmg-phone-2", replay(values)),
          i,
          shift,
          "0123456789",
        );
        assert.ok(checkIdentity({ imei, model: "dmg-phone-2" }).includes("IDENTITY_MALFORMED"));
      }),
    );
  });
});
