/**
 * Canonical JSON (src/store/canonical.ts), the bytes the audit chain hashes: keys sorted by
 * UTF-16 code units at every level, undefined members left out, JSON.stringify's numbers and
 * strings; anything that is not plain data refused with the path to it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { canonicalJson, isStoreError } from "../../src/store/index.js";

/**
 * The same form by another route: a deep copy with its keys inserted in sorted order, through
 * JSON.stringify.
 */
function sortedCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortedCopy);
  if (v === null || typeof v !== "object") return v;
  // fromEntries defines each member, so a key "__proto__" stays a member, as JSON.parse makes it.
  const o = v as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, sortedCopy(o[k])]),
  );
}

/** Seeded pseudo-random nested data, with the keys and strings JSON escapes. */
function randomValue(seed: { s: number }, depth: number): unknown {
  const r = () => {
    seed.s = (seed.s * 1103515245 + 12345) % 2 ** 31;
    return seed.s / 2 ** 31;
  };
  const pick = r();
  if (depth > 4 || pick < 0.3) {
    const leaves = [null, true, false, -0.5, 1e21, 42, "", 'q"\\\n\u2028é', "\ud83d\ude00", "Z"];
    return leaves[Math.floor(r() * leaves.length)];
  }
  if (pick < 0.5)
    return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(seed, depth + 1));
  // No integer-like keys: objects list those first, in numeric order, whatever the reference
  // copy's insertion order (the first case checks them).
  const keys = ["b", "a", "B", "é", "aa", "", "a\u0000", "\ud83d\ude00", "a10", "a9"];
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--) {
    o[keys[Math.floor(r() * keys.length)]!] = randomValue(seed, depth + 1);
  }
  return o;
}

/** The canonical form written out plainly, as the spec reads: the yardstick for both paths. */
function reference(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(reference).join(",")}]`;
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  const o = v as Record<string, unknown>;
  const members = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${reference(o[k])}`);
  return `{${members.join(",")}}`;
}

function refusal(value: unknown, field?: string): string {
  try {
    canonicalJson(value, field);
  } catch (err) {
    assert.ok(isStoreError(err, "ARGUMENT_INVALID"), String(err));
    return err.message;
  }
  assert.fail("accepted");
}

describe("canonical JSON", () => {
  it("sorts keys at every level and writes values as JSON.stringify does", () => {
    assert.equal(
      canonicalJson({ b: 1, a: [{ y: "x", x: null }, true], c: { "10": 1, "9": 2 } }),
      '{"a":[{"x":null,"y":"x"},true],"b":1,"c":{"10":1,"9":2}}',
    );
    const seed = { s: 7 };
    for (let i = 0; i < 500; i++) {
      const v = randomValue(seed, 0);
      assert.equal(canonicalJson(v), JSON.stringify(sortedCopy(v)));
    }
  });

  it("sorts short and long key lists alike, whatever order they come in", () => {
    const seed = { s: 11 };
    for (const n of [2, 31, 32, 33, 200]) {
      for (let round = 0; round < 20; round++) {
        // Distinct keys with shared prefixes, surrogates and escapes, in a shuffled order.
        const keys = Array.from(
          { length: n },
          (_, i) => `k${(i * 7919) % (n * 3)}${"é😀\u0001"[i % 4]}`,
        );
        for (let i = keys.length - 1; i > 0; i--) {
          seed.s = (seed.s * 1103515245 + 12345) % 2 ** 31;
          const j = seed.s % (i + 1);
          [keys[i], keys[j]] = [keys[j]!, keys[i]!];
        }
        const o: Record<string, number> = {};
        for (const [i, k] of keys.entries()) o[k] = i;
        assert.equal(canonicalJson(o), JSON.stringify(sortedCopy(o)), `${n} keys`);
      }
    }
  });

  it("writes values already in order as it writes them out of order", () => {
    // Ordered values take JSON.stringify's path (canonical.ts, writesCanonically).
    const seed = { s: 13 };
    for (let i = 0; i < 500; i++) {
      const v = randomValue(seed, 0);
      const ordered = sortedCopy(v);
      assert.equal(canonicalJson(ordered), canonicalJson(v));
      assert.equal(canonicalJson(ordered), JSON.stringify(ordered));
    }
    // Any JSON, as generated (keys in any order, integer-like ones, -0) and with its keys
    // inserted in order.
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (v) => {
        assert.equal(canonicalJson(v), reference(v));
        assert.equal(canonicalJson(sortedCopy(v)), reference(v));
      }),
      { numRuns: 500 },
    );
    // The depth limit is the same on both paths: 32 levels below the value, not 33.
    let deep: unknown = { a: 1 };
    for (let i = 0; i < 31; i++) deep = [deep];
    assert.equal(canonicalJson(deep), `${"[".repeat(31)}{"a":1}${"]".repeat(31)}`);
    assert.match(refusal([deep]), /nests deeper than 32$/);
    assert.equal(canonicalJson({ "10": 1, "9": 2, a: 3 }), '{"10":1,"9":2,"a":3}');
    assert.equal(canonicalJson({ a: { b: undefined, c: [1, "x"] } }), '{"a":{"c":[1,"x"]}}');
  });

  it("refuses what JSON.stringify would convert or drop, in order or not", () => {
    assert.equal(
      refusal({ a: 1, b: { toJSON: () => "x" } }),
      "value.b.toJSON holds a function, which is not JSON",
    );
    assert.equal(refusal({ a: new Date(0) }), "value.a is not a plain object");
    assert.equal(refusal({ a: Symbol("s") }), "value.a holds a symbol, which is not JSON");
    assert.equal(refusal({ a: [Number.POSITIVE_INFINITY] }), "value.a[0] is not a finite number");
    // What the prototype does not tell: a boxed primitive is written as the object it is, and a
    // proxy is read once, by the encoder (JSON.stringify would read it a second time).
    assert.equal(canonicalJson(Object.setPrototypeOf(new String("ab"), null)), '{"0":"a","1":"b"}');
    let reads = 0;
    const fickle = new Proxy(
      { a: 1 },
      { get: (t, k) => (k === "a" && reads++ > 0 ? Buffer.from("x") : Reflect.get(t, k)) },
    );
    assert.equal(canonicalJson({ p: fickle }), '{"p":{"a":1}}');
    // An array is its elements, whatever JSON.stringify would make of a toJSON on it.
    assert.equal(canonicalJson(Object.assign([1], { toJSON: () => [] })), "[1]");
  });

  it("leaves out undefined members, and takes objects without a prototype", () => {
    const bare = Object.assign(Object.create(null) as object, { z: 1, a: undefined });
    assert.equal(canonicalJson({ a: undefined, b: bare }), '{"b":{"z":1}}');
  });

  it("refuses what is not plain data, naming where it is", () => {
    assert.equal(
      refusal({ a: [1, { n: Number.NaN }] }, "details"),
      "details.a[1].n is not a finite number",
    );
    assert.equal(refusal([1, undefined]), "value[1] holds a undefined, which is not JSON");
    assert.equal(refusal({ f: () => 1 }), "value.f holds a function, which is not JSON");
    assert.equal(refusal({ b: Buffer.from("x") }), "value.b is not a plain object");
    assert.equal(refusal(10n), "value holds a bigint, which is not JSON");
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    assert.match(refusal(deep), /^value(\[0\]){33} nests deeper than 32$/);
    // A refusal after a sibling was encoded does not keep that sibling's key in the path.
    assert.equal(refusal({ a: { x: 1 }, b: [Infinity] }), "value.b[0] is not a finite number");
  });
});
