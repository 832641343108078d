import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { timeOrderedToken, uuidV7 } from "../../src/store/time-ordered.js";

const TIME = fc.integer({ min: 0, max: 2 ** 48 - 1 });

describe("time-ordered keys", () => {
  it("tokens are 43 base64url characters that sort as their times do", () => {
    fc.assert(
      fc.property(TIME, TIME, (a, b) => {
        const [ta, tb] = [timeOrderedToken(a), timeOrderedToken(b)];
        assert.match(ta, /^[A-Za-z0-9_-]{43}$/);
        if (a < b) assert.ok(ta < tb, `${a} < ${b} but ${ta} >= ${tb}`);
        if (a > b) assert.ok(ta > tb, `${a} > ${b} but ${ta} <= ${tb}`);
      }),
    );
  });

  it("tokens of one millisecond differ in their random part", () => {
    const now = Date.now();
    const tokens = Array.from({ length: 2000 }, () => timeOrderedToken(now));
    assert.equal(new Set(tokens).size, tokens.length);
    assert.equal(new Set(tokens.map((t) => t.slice(0, 8))).size, 1);
    // The random part spreads over the whole alphabet (a constant slipped in would not).
    const chars = new Set(tokens.flatMap((t) => [...t.slice(8)]));
    assert.equal(chars.size, 64);
  });

  it("UUIDs are RFC 9562 version 7: the time in the first 48 bits, then random", () => {
    const now = 1_795_929_622_287;
    const ids = Array.from({ length: 1000 }, () => uuidV7(now));
    for (const id of ids) {
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16), now);
    }
    assert.equal(new Set(ids).size, ids.length);
    fc.assert(
      fc.property(TIME, TIME, (a, b) => {
        if (a < b) assert.ok(uuidV7(a) < uuidV7(b));
      }),
    );
  });
});
