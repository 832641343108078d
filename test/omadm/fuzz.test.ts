/**
 * Mutation fuzzing of decodeMessage: 10,000 corrupted versions of the ten §2.6 example messages,
 * as XML and as WBXML (byte flips, truncations, insertions of random bytes and of markup that
 * parsers trip on, deletions, duplications). Each must decode or be refused with a ProtocolError —
 * never another exception, never a hang — and whatever decodes must survive re-encoding.
 * A seeded generator makes every run the same; set FUZZ_SEED to explore others.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { decodeMessage, encodeMessage } from "../../src/omadm/codec.js";
import { ProtocolError } from "../../src/omadm/errors.js";
import type { Encoding } from "../../src/omadm/model/message.js";
import { OMADM_FIXTURES } from "../support/fixtures.js";

const DIR = pathToFileURL(OMADM_FIXTURES);
const MUTANTS_PER_SEED = 500;

/** mulberry32: small, fast, good enough to spread mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const enc = new TextEncoder();
/** Fragments that have broken parsers before: markup openers, references, DTD, bad UTF-8. */
const TOKENS: Uint8Array[] = [
  "<",
  ">",
  "</",
  "/>",
  "&",
  "&amp;",
  "&#x0;",
  "&#1114112;",
  "&lol;",
  "<!--",
  "-->",
  "<![CDATA[",
  "]]>",
  "<?",
  "?>",
  "<!DOCTYPE a [<!ENTITY x 'y'>]>",
  "xmlns='urn:x'",
  " xmlns:p='syncml:metinf'",
  "<p:Meta>",
  "<Status>",
  "</SyncBody>",
  "<Atomic><CmdID>9</CmdID>",
  "<Item>",
  "<Data>",
  "'",
  '"',
].map((s) => enc.encode(s));
const RAW: Uint8Array[] = [
  [0x00],
  [0x01],
  [0x02],
  [0x03],
  [0x04],
  [0x40],
  [0x43],
  [0x80],
  [0x83],
  [0xc3],
  [0xc3, 0x7f],
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0xed, 0xa0, 0x80],
  [0xef, 0xbb, 0xbf],
].map((b) => new Uint8Array(b));

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  let b: Uint8Array = src;
  const steps = 1 + int(3);
  for (let s = 0; s < steps; s++) {
    const at = int(b.length + 1);
    switch (int(6)) {
      case 0: {
        // Overwrite a few bytes with random values.
        b = b.slice();
        for (let k = 1 + int(4); k > 0 && b.length > 0; k--) b[int(b.length)] = int(256);
        break;
      }
      case 1: {
        b = b.slice();
        if (b.length > 0) {
          const i = int(b.length);
          b[i] = b[i]! ^ (1 << int(8));
        }
        break;
      }
      case 2:
        b = b.subarray(0, at);
        break;
      case 3: {
        const pool = rnd() < 0.6 ? TOKENS : RAW;
        b = splice(b, at, 0, pool[int(pool.length)]!);
        break;
      }
      case 4:
        b = splice(b, at, 1 + int(16), new Uint8Array());
        break;
      default: {
        const from = int(b.length + 1);
        b = splice(b, at, 0, b.slice(from, from + 1 + int(64)));
      }
    }
  }
  return b;
}

function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length - Math.min(remove, b.length - at) + insert.length);
  out.set(b.subarray(0, at));
  out.set(insert, at);
  out.set(b.subarray(at + remove), at + insert.length);
  return out;
}

function asProtocolError(e: unknown, what: string): ProtocolError {
  if (e instanceof ProtocolError) return e;
  throw new Error(`${what}: ${e instanceof Error ? e.stack : String(e)}`);
}

test("10,000 corrupted XML and WBXML messages: decoded or refused with a ProtocolError", (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? 20240611);
  const rnd = prng(seed);
  const corpus: Array<{ name: string; bytes: Uint8Array }> = [];
  for (const f of readdirSync(DIR)
    .filter((n) => n.endsWith(".xml"))
    .sort()) {
    const xml = new Uint8Array(readFileSync(new URL(f, DIR)));
    corpus.push({ name: f, bytes: xml });
    corpus.push({ name: `${f}.wbxml`, bytes: encodeMessage(decodeMessage(xml).message, "wbxml") });
  }
  assert.equal(corpus.length, 20);

  const outcomes = new Map<string, number>();
  const t0 = performance.now();
  let slowest = 0;
  for (const { name, bytes } of corpus) {
    for (let i = 0; i < MUTANTS_PER_SEED; i++) {
      const input = mutate(bytes, rnd);
      const what = `seed ${seed}, ${name} mutant ${i} (${Buffer.from(input).toString("base64")})`;
      const t = performance.now();
      let outcome: string;
      try {
        const { message, encoding } = decodeMessage(input);
        outcome = `decoded as ${encoding}`;
        reencode(message, encoding, what);
      } catch (e) {
        outcome = asProtocolError(e, what).code;
      }
      slowest = Math.max(slowest, performance.now() - t);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  }
  const elapsed = performance.now() - t0;
  const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
  assert.equal(total, 10_000);
  // Both kinds of outcome must occur, or the mutations are not exercising anything.
  assert.ok(
    [...outcomes.keys()].some((k) => k.startsWith("decoded")),
    JSON.stringify([...outcomes]),
  );
  assert.ok((outcomes.get("XML_MALFORMED") ?? 0) > 0 && (outcomes.get("WBXML_MALFORMED") ?? 0) > 0);
  assert.ok(elapsed < 20_000, `fuzz run took ${elapsed.toFixed(0)} ms`);
  assert.ok(slowest < 1_000, `one input took ${slowest.toFixed(0)} ms`);
  t.diagnostic(
    `${elapsed.toFixed(0)} ms, slowest ${slowest.toFixed(1)} ms, ${JSON.stringify(Object.fromEntries(outcomes))}`,
  );
});

/** What decodes must encode again (or be refused as unrepresentable) and decode to itself. */
function reencode(
  message: ReturnType<typeof decodeMessage>["message"],
  encoding: Encoding,
  what: string,
) {
  let bytes: Uint8Array;
  try {
    bytes = encodeMessage(message, encoding);
  } catch (e) {
    asProtocolError(e, `re-encoding ${what}`);
    return;
  }
  assert.deepStrictEqual(decodeMessage(bytes).message, message, `re-decoding ${what}`);
}
