/**
 * Untrusted WBXML: every fault is a ProtocolError with a stable code and the byte offset of the
 * token at fault; limits hold; nothing hangs and nothing else is thrown (DESIGN.md, security).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ProtocolError, type ProtocolErrorCode } from "../../src/omadm/errors.js";
import { type Element, element } from "../../src/omadm/model/element.js";
import { decodeWbxml } from "../../src/omadm/wbxml/decode.js";
import { encodeWbxml } from "../../src/omadm/wbxml/encode.js";
import { bytes, countElements, strI } from "./wbxml-helpers.js";

const s = (name: string, ...children: Element["children"]): Element =>
  element(name, "syncml", children);
const m = (name: string, ...children: Element["children"]): Element =>
  element(name, "metinf", children);
const d = (name: string, ...children: Element["children"]): Element =>
  element(name, "devinf", children);

const HEADER = [0x02, 0xa4, 0x01, 0x6a] as const;

/** A realistic message exercising every token kind the encoder writes. */
const MESSAGE = encodeWbxml(
  s(
    "SyncML",
    s(
      "SyncHdr",
      s("VerDTD", "1.2"),
      s("VerProto", "DM/1.2"),
      s("SessionID", "1"),
      s("MsgID", "2"),
      s("Target", s("LocURI", "http://www.syncml.org/mgmt-server")),
      s("Source", s("LocURI", "IMEI:493005100592800")),
      s("Meta", m("MaxMsgSize", "5000")),
    ),
    s(
      "SyncBody",
      s(
        "Status",
        s("CmdID", "1"),
        s("MsgRef", "1"),
        s("CmdRef", "0"),
        s("Cmd", "SyncHdr"),
        s("TargetRef", "IMEI:493005100592800"),
        s("Data", "212"),
      ),
      s(
        "Results",
        s("CmdID", "2"),
        s("CmdRef", "4"),
        s(
          "Item",
          s("Source", s("LocURI", "./DevInfo/Man")),
          s("Meta", m("Format", "chr")),
          s("Data", "Device Factory, Inc."),
        ),
        s(
          "Item",
          s("Source", s("LocURI", "./Vendor/Blob")),
          s("Data", Uint8Array.from([0, 1, 0xff, 0x83])),
        ),
        s(
          "Item",
          s("Source", s("LocURI", "./devinf12")),
          s("Data", d("DevInf", d("VerDTD", "1.2"), d("Man", "Device Factory, Inc."))),
        ),
      ),
      s("Final"),
    ),
  ),
);

const WBXML_CODES = new Set<ProtocolErrorCode>([
  "WBXML_MALFORMED",
  "WBXML_UNSUPPORTED",
  "LIMIT_EXCEEDED",
]);

/** Asserts a ProtocolError with `code` at byte `offset` (or anywhere inside the input). */
function rejects(
  input: Uint8Array,
  code: ProtocolErrorCode,
  offset?: number,
  limits?: Parameters<typeof decodeWbxml>[1],
): ProtocolError {
  let caught: unknown;
  try {
    decodeWbxml(input, limits);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ProtocolError, `expected a ProtocolError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  const at = caught.where?.offset;
  assert.equal(typeof at, "number", `no offset in: ${caught.message}`);
  if (offset !== undefined) assert.equal(at, offset, caught.message);
  return caught;
}

describe("WBXML header faults", () => {
  test("unsupported versions, public ids and charsets", () => {
    rejects(bytes(0x00, 0x01, 0x6a, 0x00), "WBXML_UNSUPPORTED", 0); // WBXML 1.0
    rejects(bytes(0x04, 0xa4, 0x01, 0x6a, 0x00), "WBXML_UNSUPPORTED", 0);
    rejects(bytes(0x02, 0x9f, 0x53, 0x6a, 0x00, 0x6d, 0x01), "WBXML_UNSUPPORTED", 1); // SyncML 1.1, 0xFD3
    rejects(bytes(0x02, 0x01, 0x6a, 0x00, 0x6d, 0x01), "WBXML_UNSUPPORTED", 1); // "unknown"
    rejects(bytes(0x02, 0xa4, 0x01, 0x04, 0x00, 0x6d, 0x01), "WBXML_UNSUPPORTED", 3); // ISO-8859-1
    rejects(bytes(0x02, 0xa4, 0x01, 0x00, 0x00, 0x6d, 0x01), "WBXML_UNSUPPORTED", 3); // unknown charset
    // A string public id that names no supported document type.
    rejects(bytes(0x02, 0x00, 0x00, 0x6a, 0x04, "abc", 0, 0x6d, 0x01), "WBXML_UNSUPPORTED", 1);
  });

  test("bad mb_u_int32: longer than five bytes, or past 32 bits", () => {
    rejects(bytes(0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), "WBXML_MALFORMED", 1);
    rejects(bytes(0x02, 0x90, 0x80, 0x80, 0x80, 0x00, 0x6a, 0x00), "WBXML_MALFORMED", 1);
    // The offset of an mb_u_int32 fault is where the number starts.
    rejects(
      bytes(HEADER, 0x00, 0x4f, 0xc3, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f),
      "WBXML_MALFORMED",
      7,
    );
  });

  test("huge declared lengths are refused before anything is allocated", () => {
    // String table of 2^32-1 bytes.
    rejects(bytes(HEADER, 0x8f, 0xff, 0xff, 0xff, 0x7f, 0x6d, 0x01), "WBXML_MALFORMED", 4);
    // OPAQUE of 2^28 bytes with 2 left.
    rejects(
      bytes(HEADER, 0x00, 0x4f, 0xc3, 0x81, 0x80, 0x80, 0x80, 0x00, 0x01, 0x01),
      "WBXML_MALFORMED",
      6,
    );
  });

  test("a string table that does not end with NUL", () => {
    rejects(bytes(HEADER, 0x03, "abc", 0x6d, 0x01), "WBXML_MALFORMED", 7);
  });
});

describe("WBXML body faults", () => {
  test("string table index out of range", () => {
    rejects(bytes(HEADER, 0x04, "abc", 0, 0x4f, 0x83, 0x04, 0x01), "WBXML_MALFORMED", 10);
    rejects(bytes(HEADER, 0x00, 0x4f, 0x83, 0x00, 0x01), "WBXML_MALFORMED", 6);
    // In a literal tag, and inside a skipped attribute list.
    rejects(bytes(HEADER, 0x00, 0x04, 0x00), "WBXML_MALFORMED", 5);
    rejects(bytes(HEADER, 0x00, 0xcf, 0x05, 0x83, 0x09, 0x01, 0x01), "WBXML_MALFORMED", 7);
  });

  test("unknown tokens and code pages", () => {
    rejects(bytes(HEADER, 0x00, 0x30), "WBXML_MALFORMED", 5); // reserved SyncML token 0x30
    rejects(bytes(HEADER, 0x00, 0x6d, 0x00, 0x01, 0x3f, 0x01), "WBXML_MALFORMED", 8); // MetInf 0x3F
    rejects(bytes(HEADER, 0x00, 0x00, 0x02, 0x2d), "WBXML_MALFORMED", 5); // no code page 2
    rejects(bytes(0x02, 0xa4, 0x02, 0x6a, 0x00, 0x4e, 0x01), "WBXML_MALFORMED", 5); // MetInf on page 0
    rejects(bytes(HEADER, 0x00, 0x6d, 0xc0, 0x01), "WBXML_UNSUPPORTED", 6); // EXT_0
    rejects(bytes(HEADER, 0x00, 0x6d, 0x40, strI("x"), 0x01), "WBXML_UNSUPPORTED", 6); // EXT_I_0
    rejects(bytes(HEADER, 0x00, 0x6d, 0x80, 0x00, 0x01), "WBXML_UNSUPPORTED", 6); // EXT_T_0
    rejects(bytes(HEADER, 0x00, 0xcf, 0x44, 0x01, 0x01), "WBXML_MALFORMED", 6); // LITERAL_C in attributes
  });

  test("literal tags must name an element of the document type", () => {
    rejects(bytes(HEADER, 0x06, "Bogus", 0, 0x44, 0x00, 0x01), "WBXML_MALFORMED", 11);
    // DevInf names are not SyncML elements.
    rejects(bytes(HEADER, 0x04, "Man", 0, 0x04, 0x00), "WBXML_MALFORMED", 9);
  });

  test("END without an open element, missing END, stray content", () => {
    rejects(bytes(HEADER, 0x00, 0x01), "WBXML_MALFORMED", 5);
    rejects(bytes(HEADER, 0x00, 0x6d, 0x12, 0x01, 0x01), "WBXML_MALFORMED", 8);
    rejects(bytes(HEADER, 0x00, 0x6d, 0x6c), "WBXML_MALFORMED", 7);
    rejects(bytes(HEADER, 0x00), "WBXML_MALFORMED", 5); // no root at all
    rejects(bytes(HEADER, 0x00, strI("x"), 0x2d), "WBXML_MALFORMED", 5); // text before the root
    rejects(bytes(HEADER, 0x00, 0x2d, strI("x")), "WBXML_MALFORMED", 6); // text after it
    rejects(bytes(HEADER, 0x00, 0x2d, 0x2d), "WBXML_MALFORMED", 6); // a second root
    rejects(bytes(HEADER, 0x00, 0x2d, 0xc3, 0x00), "WBXML_MALFORMED", 6); // opaque after it
  });

  test("strings: unterminated, invalid UTF-8, bad character entities", () => {
    rejects(bytes(HEADER, 0x00, 0x4f, 0x03, "abc"), "WBXML_MALFORMED", 6);
    rejects(bytes(HEADER, 0x00, 0x4f, 0x03, 0xc3, 0x28, 0x00, 0x01), "WBXML_MALFORMED", 6);
    rejects(
      bytes(HEADER, 0x04, 0xed, 0xa0, 0x80, 0x00, 0x4f, 0x83, 0x00, 0x01),
      "WBXML_MALFORMED",
      10,
    );
    rejects(bytes(HEADER, 0x00, 0x4f, 0x02, 0x83, 0xb0, 0x00, 0x01), "WBXML_MALFORMED", 6); // U+D800
    rejects(bytes(HEADER, 0x00, 0x4f, 0x02, 0xc4, 0x80, 0x00, 0x01), "WBXML_MALFORMED", 6); // U+110000
    rejects(bytes(HEADER, 0x00, 0x4f, 0x02, 0x00, 0x01), "WBXML_MALFORMED", 6); // U+0000
  });

  test("truncated at every byte position of a real message", () => {
    assert.ok(MESSAGE.length > 300);
    assert.ok(decodeWbxml(MESSAGE));
    for (let n = 0; n < MESSAGE.length; n++) {
      const e = rejects(MESSAGE.subarray(0, n), "WBXML_MALFORMED");
      assert.ok(e.where!.offset! <= n, `offset ${e.where!.offset} past the end at length ${n}`);
    }
  });
});

describe("WBXML limits", () => {
  test("maxBytes", () => {
    rejects(MESSAGE, "LIMIT_EXCEEDED", 100, { maxBytes: 100 });
    assert.ok(decodeWbxml(MESSAGE, { maxBytes: MESSAGE.length }));
  });

  test("a limit passed as undefined keeps its default instead of switching the check off", () => {
    const depth = 40;
    const input = bytes(HEADER, 0x00, new Array(depth).fill(0x64), new Array(depth).fill(0x01));
    rejects(input, "LIMIT_EXCEEDED", 5 + 32, { maxDepth: undefined, maxElements: undefined });
  });

  test("input that is not bytes is a ProtocolError too", () => {
    assert.throws(() => decodeWbxml("\u0002\u00a4\u0001j" as unknown as Uint8Array), {
      code: "WBXML_MALFORMED",
    });
  });

  test("nesting past maxDepth", () => {
    const depth = 40;
    const input = bytes(HEADER, 0x00, new Array(depth).fill(0x64), new Array(depth).fill(0x01));
    rejects(input, "LIMIT_EXCEEDED", 5 + 32); // the 33rd Sequence
    rejects(input, "LIMIT_EXCEEDED", 5 + 10, { maxDepth: 10 });
    assert.ok(decodeWbxml(input, { maxDepth: depth }));
  });

  test("maxElements, counting elements of embedded DevInf too", () => {
    const input = bytes(HEADER, 0x00, 0x6d, new Array(100).fill(0x12), 0x01);
    rejects(input, "LIMIT_EXCEEDED", 5 + 50, { maxElements: 50 });
    assert.ok(decodeWbxml(input, { maxElements: 101 }));
    // MESSAGE's count includes the three elements of its embedded DevInf.
    const total = countElements(decodeWbxml(MESSAGE));
    const withoutDevInf = countElements(
      decodeWbxml(encodeWbxml(s("SyncML", ...decodeWbxml(MESSAGE).children.slice(0, 1)))),
    );
    assert.ok(total > withoutDevInf);
    rejects(MESSAGE, "LIMIT_EXCEEDED", undefined, { maxElements: total - 1 });
    assert.ok(decodeWbxml(MESSAGE, { maxElements: total }));
  });

  test("embedded DevInf keeps counting depth from its Data element", () => {
    // SyncML/SyncBody/Results/Item/Data is depth 5, so DevInf/Man is 7.
    rejects(MESSAGE, "LIMIT_EXCEEDED", undefined, { maxDepth: 6 });
    assert.ok(decodeWbxml(MESSAGE, { maxDepth: 7 }));
  });

  test("string-table amplification is bounded by maxBytes", () => {
    const big = "x".repeat(1000);
    const refs = new Array(2000).fill([0x83, 0x00]).flat();
    const input = bytes(HEADER, 0x87, 0x69, big, 0, 0x4f, refs, 0x01); // table length 1001
    assert.ok(input.length < 6000);
    const e = rejects(input, "LIMIT_EXCEEDED", undefined, { maxBytes: 100_000 });
    assert.match(e.message, /decoded text/);
    assert.equal(decodeWbxml(input, { maxBytes: 2_000_000 }).children[0], big.repeat(2000));
  });
});

describe("WBXML fuzz", () => {
  /** xorshift32: deterministic, so a failure reproduces. */
  function rng(seed: number): () => number {
    let x = seed >>> 0 || 1;
    return () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x / 0x100000000;
    };
  }

  function mutate(src: Uint8Array, rand: () => number): Uint8Array {
    const out = Array.from(src);
    const edits = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(rand() * (out.length + 1));
      const byte =
        rand() < 0.5
          ? Math.floor(rand() * 256)
          : [0x00, 0x01, 0x02, 0x03, 0x04, 0x43, 0x83, 0xc3, 0x80, 0xff][Math.floor(rand() * 10)]!;
      const op = rand();
      if (op < 0.5) out[Math.min(at, out.length - 1)] = byte;
      else if (op < 0.75) out.splice(at, 0, byte);
      else out.splice(at, 1 + Math.floor(rand() * 3));
    }
    return Uint8Array.from(out);
  }

  /** Every token kind the decoder reads, including those SyncML never uses. */
  const EXOTIC = bytes(
    0x03, // WBXML 1.3
    0x00,
    0x00, // public id as string-table index 0
    0x6a,
    0x25, // string table: the public id, "LocURI"
    "-//SYNCML//DTD SyncML 1.2//EN",
    0,
    "LocURI",
    0,
    0x43,
    0x05,
    strI("pi"),
    0x01, // PI
    0x6d, // SyncML
    0xee,
    0x05,
    0x86,
    strI("v"),
    0x83,
    0x1e,
    0x01, // Target with attributes
    0x44,
    0x1e,
    strI("a"),
    0x02,
    0x81,
    0x69,
    0x83,
    0x1f,
    0x01, // LITERAL_C LocURI, ENTITY, STR_T
    0x01,
    0x5a,
    0x00,
    0x01,
    0x4c,
    strI("5000"),
    0x01,
    0x01,
    0x00,
    0x00, // Meta, page 1, MaxMsgSize
    0x4f,
    0xc3,
    0x03,
    0x01,
    0x02,
    0x03,
    0x01, // Data with OPAQUE
    0x12,
    0x01,
  );

  test("decoding the fuzz seeds succeeds", () => {
    assert.ok(decodeWbxml(MESSAGE));
    assert.deepEqual(
      decodeWbxml(EXOTIC),
      s(
        "SyncML",
        s("Target", s("LocURI", "aéocURI")),
        s("Meta", m("MaxMsgSize", "5000")),
        s("Data", Uint8Array.from([1, 2, 3])),
        s("Final"),
      ),
    );
  });

  test("4000 random mutations: a tree or a ProtocolError, nothing else", () => {
    const rand = rng(0x5eed1234);
    let decoded = 0;
    for (let i = 0; i < 4000; i++) {
      const input = mutate(i % 2 === 0 ? MESSAGE : EXOTIC, rand);
      try {
        const tree = decodeWbxml(input, { maxDepth: 16, maxElements: 200 });
        assert.equal(typeof tree.name, "string");
        decoded++;
      } catch (e) {
        if (!(e instanceof ProtocolError)) {
          assert.fail(`mutation ${i} threw ${String(e)} for ${Buffer.from(input).toString("hex")}`);
        }
        assert.ok(WBXML_CODES.has(e.code), e.code);
        const at = e.where?.offset;
        assert.ok(
          typeof at === "number" && at >= 0 && at <= input.length,
          `offset ${at}: ${e.message}`,
        );
      }
    }
    // Single-byte changes inside strings still decode, so some must have succeeded.
    assert.ok(decoded > 0);
  });
});
