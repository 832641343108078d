/**
 * The direct WBXML paths (wbxml/encode-message.ts, wbxml/decode-message.ts) held to the element
 * tree paths they stand in for: the same bytes out for the same model, the same model out for the
 * same bytes, and for bytes the direct decoder does not take or finds wrong, no message of its own
 * — `decodeMessage` then answers exactly as the tree path does, error for error.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import fc from "fast-check";
import { samplePkg2 } from "../../bench/codec.js";
import { decodeMessage, detectEncoding, encodeMessage } from "../../src/omadm/codec.js";
import { type Limits, ProtocolError } from "../../src/omadm/errors.js";
import { fromMessage, toMessage } from "../../src/omadm/model/bind.js";
import type { Item, SyncMLMessage } from "../../src/omadm/model/message.js";
import { decodeWbxml, looksLikeDevInf } from "../../src/omadm/wbxml/decode.js";
import { decodeMessageWbxml, GIVE_UP } from "../../src/omadm/wbxml/decode-message.js";
import { encodeWbxml } from "../../src/omadm/wbxml/encode.js";
import { encodeMessageWbxml } from "../../src/omadm/wbxml/encode-message.js";
import { OMADM_FIXTURES } from "../support/fixtures.js";
import { message } from "./arbitraries.js";

const DIR = pathToFileURL(OMADM_FIXTURES);
const fixtures: Array<[string, SyncMLMessage]> = readdirSync(DIR)
  .filter((n) => n.endsWith(".xml"))
  .sort()
  .map((f) => [f, decodeMessage(readFileSync(new URL(f, DIR))).message]);

/** The element-tree encoding, the reference for the direct encoder. */
const treeEncode = (m: SyncMLMessage) => encodeWbxml(fromMessage(m));
/** The element-tree decoding, the reference for the direct decoder. */
const treeDecode = (b: Uint8Array, limits?: Partial<Limits>) => toMessage(decodeWbxml(b, limits));

/** True when some bytes Data starts like an embedded DevInf document, which the tree expands. */
function carriesDevInfLike(m: SyncMLMessage): boolean {
  const items: Item[] = [];
  const walk = (cmds: SyncMLMessage["body"]["commands"]) => {
    for (const c of cmds) {
      if ("items" in c) items.push(...c.items);
      if ("item" in c) items.push(c.item);
      if ("commands" in c) walk(c.commands);
    }
  };
  walk(m.body.commands);
  return items.some((i) => i.data instanceof Uint8Array && looksLikeDevInf(i.data));
}

/** Both paths on one model: equal bytes, and each decoder gives the model back. */
function agree(m: SyncMLMessage, what: string): void {
  const direct = encodeMessageWbxml(m);
  assert.deepStrictEqual([...direct], [...treeEncode(m)], `bytes of ${what}`);
  assert.deepStrictEqual(treeDecode(direct), m, `tree decoding of ${what}`);
  assert.deepStrictEqual(decodeMessageWbxml(direct), m, `direct decoding of ${what}`);
}

describe("direct WBXML encoder and decoder agree with the element-tree path", () => {
  test("on the ten OMA DM example messages and the bench's Pkg2", () => {
    assert.equal(fixtures.length, 10);
    for (const [name, m] of fixtures) agree(m, name);
    agree(samplePkg2(), "samplePkg2");
  });

  test("on generated messages, binary Data included", () => {
    fc.assert(
      fc.property(message({ bytes: true, maxNesting: 3 }), (m) => {
        fc.pre(!carriesDevInfLike(m));
        agree(m, JSON.stringify(m));
      }),
      { numRuns: 400 },
    );
  });

  test("the tree path expands Data that is a DevInf document; the direct decoder leaves it", () => {
    // A complete DevInf 1.2 WBXML document (public id 0x1203) with an empty DevInf element.
    const devInf = new Uint8Array([0x02, 0xa4, 0x03, 0x6a, 0x00, 0x0a]);
    const m: SyncMLMessage = {
      ...samplePkg2(),
      body: {
        final: true,
        commands: [{ kind: "Replace", cmdId: "1", items: [{ data: devInf }] }],
      },
    };
    const bytes = encodeMessageWbxml(m);
    assert.deepStrictEqual([...bytes], [...treeEncode(m)]);
    assert.throws(
      () => decodeMessageWbxml(bytes),
      (e) => e === GIVE_UP,
    );
    const { message: decoded } = decodeMessage(bytes);
    assert.deepStrictEqual(decoded, treeDecode(bytes));
    const data = (decoded.body.commands[0] as { items: readonly Item[] }).items[0]!.data;
    assert.equal(typeof data, "string");
    assert.match(data as string, /DevInf/);
  });
});

test("libwbxml's encodings of the example messages take the direct path, to the same message", () => {
  const dir = mkdtempSync(join(tmpdir(), "dmguard-direct-"));
  try {
    for (const f of readdirSync(DIR).filter((n) => n.endsWith(".xml"))) {
      const out = join(dir, `${f}.wbxml`);
      // wbxml-interop.test.ts says how to install xml2wbxml where it is missing.
      execFileSync("xml2wbxml", ["-v", "1.2", "-o", out, fileURLToPath(new URL(f, DIR))], {
        stdio: "pipe",
        timeout: 10_000,
      });
      const theirs = new Uint8Array(readFileSync(out));
      assert.deepStrictEqual(decodeMessageWbxml(theirs), treeDecode(theirs), f);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("models WBXML cannot carry are refused as the tree path refuses them", () => {
  const refusal = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof ProtocolError, String(e));
      return { code: e.code, message: e.message, where: e.where };
    }
    assert.fail("not refused");
  };

  test("text holding U+0000: the error names the element", () => {
    const base = samplePkg2();
    const m: SyncMLMessage = {
      ...base,
      body: {
        final: true,
        commands: [{ kind: "Alert", cmdId: "1", data: "12\u00000", items: [] }],
      },
    };
    assert.throws(() => encodeMessageWbxml(m), ProtocolError);
    const ours = refusal(() => encodeMessage(m, "wbxml"));
    assert.deepStrictEqual(
      ours,
      refusal(() => treeEncode(m)),
    );
    assert.equal(ours.code, "WBXML_UNSUPPORTED");
    assert.equal(ours.where?.path, "SyncML/SyncBody/Alert/Data");
  });

  test("a Status nested in Atomic, a Get without Item", () => {
    const base = samplePkg2();
    const status = base.body.commands[0]!;
    for (const commands of [
      [{ kind: "Atomic", cmdId: "1", commands: [status] }],
      [{ kind: "Get", cmdId: "1", items: [] }],
    ] as SyncMLMessage["body"]["commands"][]) {
      const m: SyncMLMessage = { ...base, body: { final: false, commands } };
      const ours = refusal(() => encodeMessage(m, "wbxml"));
      assert.deepStrictEqual(
        ours,
        refusal(() => treeEncode(m)),
      );
      assert.equal(ours.code, "SYNCML_INVALID");
    }
  });
});

/** The outcome of a decoding: the message, or the error's code, text and location. */
function outcome(f: () => SyncMLMessage): unknown {
  try {
    return { message: f() };
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    return { code: e.code, message: e.message, where: e.where };
  }
}

/**
 * The direct decoder gives `bytes` up under `limits`, and decodeMessage refuses them exactly as
 * the tree path does, for a breached limit.
 */
function refusedForLimit(bytes: Uint8Array, limits: Partial<Limits>): void {
  assert.throws(
    () => decodeMessageWbxml(bytes, limits),
    (e) => e === GIVE_UP,
  );
  const theirs = outcome(() => treeDecode(bytes, limits));
  assert.equal((theirs as { code: string }).code, "LIMIT_EXCEEDED");
  assert.deepStrictEqual(
    outcome(() => decodeMessage(bytes, { limits }).message),
    theirs,
  );
}

describe("bytes the direct decoder must not take", () => {
  test("limits: one element, one level or one byte of text too many", () => {
    const m = samplePkg2();
    const bytes = encodeMessageWbxml(m);
    const tree = decodeWbxml(bytes);
    let elements = 0;
    let depth = 0;
    const walk = (e: typeof tree, d: number) => {
      elements++;
      depth = Math.max(depth, d);
      for (const c of e.children) if (typeof c === "object" && "name" in c) walk(c, d + 1);
    };
    walk(tree, 1);
    assert.deepStrictEqual(
      decodeMessageWbxml(bytes, { maxElements: elements, maxDepth: depth }),
      m,
    );
    for (const limits of [{ maxElements: elements - 1 }, { maxDepth: depth - 1 }]) {
      refusedForLimit(bytes, limits);
    }
  });

  test("string-table amplification: references that decode to more text than allowed", () => {
    const uri = "./Vendor/dmguard/a/rather/long/node/name/repeated";
    const items = Array.from({ length: 60 }, () => ({ target: { locUri: uri } }));
    const m: SyncMLMessage = {
      ...samplePkg2(),
      body: { final: true, commands: [{ kind: "Get", cmdId: "1", items }] },
    };
    const bytes = encodeMessageWbxml(m);
    // The wire is small (each reference two bytes); the text it stands for is not.
    assert.ok(bytes.length < 60 * uri.length);
    refusedForLimit(bytes, { maxBytes: bytes.length + 100 });
    assert.deepStrictEqual(decodeMessageWbxml(bytes), m);
  });

  test("3,000 corrupted messages: the direct decoder returns the tree's message or nothing", () => {
    const seeds = [samplePkg2(), ...fixtures.map(([, m]) => m)].map(encodeMessageWbxml);
    const rnd = mulberry32(0x5eed);
    const int = (n: number) => Math.floor(rnd() * n);
    let direct = 0;
    let left = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = corrupt(seeds[i % seeds.length]!, int);
      // Now and then tight limits, so that limit checks meet corrupted input too.
      const limits: Partial<Limits> | undefined =
        i % 5 === 0
          ? { maxElements: 10 + int(80), maxDepth: 3 + int(6), maxBytes: 100 + int(800) }
          : undefined;
      const what = `mutant ${i}: ${Buffer.from(bytes).toString("base64")}`;
      const theirs = outcome(() => treeDecode(bytes, limits));
      let ours: SyncMLMessage | undefined;
      try {
        ours = decodeMessageWbxml(bytes, limits);
      } catch (e) {
        assert.ok(e === GIVE_UP || e instanceof ProtocolError, `${what}: ${String(e)}`);
      }
      if (ours !== undefined) {
        direct++;
        assert.deepStrictEqual({ message: ours }, theirs, what);
      } else {
        left++;
      }
      // decodeMessage answers as the tree path does, for what it takes for WBXML of a size it
      // accepts (it checks those two itself, first).
      if (detectEncoding(bytes) === "wbxml" && bytes.length <= (limits?.maxBytes ?? Infinity)) {
        assert.deepStrictEqual(
          outcome(() => decodeMessage(bytes, { limits }).message),
          theirs,
          what,
        );
      }
    }
    // Both outcomes must occur, or the corruption is not exercising the direct decoder.
    assert.ok(direct > 100 && left > 100, `direct ${direct}, left to the tree ${left}`);
  });
});

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One to three changes: a byte set or flipped, a cut, a byte inserted or removed. */
function corrupt(src: Uint8Array, int: (n: number) => number): Uint8Array {
  let b = src.slice();
  for (let k = 1 + int(3); k > 0; k--) {
    const at = int(b.length);
    switch (int(5)) {
      case 0:
        b[at] = int(256);
        break;
      case 1:
        b[at] = b[at]! ^ (1 << int(8));
        break;
      case 2:
        b = b.slice(0, at);
        break;
      case 3:
        b = new Uint8Array([...b.subarray(0, at), int(256), ...b.subarray(at)]);
        break;
      default:
        b = new Uint8Array([...b.subarray(0, at), ...b.subarray(at + 1)]);
    }
  }
  return b;
}
