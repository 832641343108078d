import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  DEVICE_MODELS,
  findModel,
  generateImei,
  isValidImei,
  modelForTac,
  parseImei,
  tacsForModel,
} from "../../src/identity/index.js";
import { replay, seeds, throwsCode } from "./arbitraries.js";

describe("TAC table", () => {
  it("holds the emulated models, with one CDMA model", () => {
    assert.deepEqual(
      DEVICE_MODELS.map((m) => m.name),
      ["dmg-phone-1", "dmg-phone-2", "dmg-tablet-1", "dmg-cdma-1"],
    );
    assert.deepEqual(
      DEVICE_MODELS.filter((m) => m.cdma).map((m) => m.name),
      ["dmg-cdma-1"],
    );
    for (const m of DEVICE_MODELS) {
      assert.ok(m.marketingName.length > 0);
      assert.ok(m.tacs.length >= 1);
      for (const tac of m.tacs) assert.match(tac, /^[0-9]{8}$/);
    }
  });

  it("gives each TAC to exactly one model, both ways", () => {
    const all = DEVICE_MODELS.flatMap((m) => m.tacs);
    assert.equal(new Set(all).size, all.length);
    for (const m of DEVICE_MODELS) {
      assert.deepEqual(tacsForModel(m.name), m.tacs);
      assert.equal(findModel(m.name), m);
      for (const tac of m.tacs) assert.equal(modelForTac(tac), m);
    }
    assert.equal(modelForTac("49015420"), undefined);
    assert.equal(findModel("dmg-phone-9"), undefined);
  });

  it("is frozen", () => {
    assert.ok(Object.isFrozen(DEVICE_MODELS));
    for (const m of DEVICE_MODELS) {
      assert.ok(Object.isFrozen(m));
      assert.ok(Object.isFrozen(m.tacs));
    }
  });

  it("refuses an unknown model", () => {
    throwsCode(() => tacsForModel("dmg-phone-9"), "MODEL_UNKNOWN");
    throwsCode(() => generateImei("dmg-phone-9"), "MODEL_UNKNOWN");
  });

  it("generateImei is deterministic under an injected random source", () => {
    // TAC index 1 of dmg-phone-2, serial 42.
    assert.equal(generateImei("dmg-phone-2", replay([1, 42])), "359992020000423");
    assert.equal(isValidImei("359992020000423"), true);
    throwsCode(() => generateImei("dmg-phone-1", () => 7), "RANDOM_INVALID");
  });

  it("property: generateImei(model) is valid and always has a TAC of that model", () => {
    const names = DEVICE_MODELS.map((m) => m.name);
    fc.assert(
      fc.property(fc.constantFrom(...names), seeds, (name, values) => {
        const imei = generateImei(name, replay(values));
        assert.equal(isValidImei(imei), true);
        const { tac } = parseImei(imei);
        assert.ok(tacsForModel(name).includes(tac));
        assert.equal(modelForTac(tac)?.name, name);
      }),
    );
    for (const name of names) {
      assert.equal(modelForTac(parseImei(generateImei(name)).tac)?.name, name);
    }
  });
});
