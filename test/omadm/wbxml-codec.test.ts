/**
 * WBXML codec: hand-built byte vectors (WAP-192-WBXML §5, OMA-TS-SyncML_RepPro-V1_2 §8) and
 * element-level round trips through encodeWbxml → decodeWbxml.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ProtocolError } from "../../src/omadm/errors.js";
import { type Element, element } from "../../src/omadm/model/element.js";
import { decodeWbxml } from "../../src/omadm/wbxml/decode.js";
import { encodeWbxml } from "../../src/omadm/wbxml/encode.js";
import { allTags, DEVINF_1_2, METINF_1_2, SYNCML_1_2 } from "../../src/omadm/wbxml/tables.js";
import { bytes, strI } from "./wbxml-helpers.js";

const s = (name: string, ...children: Element["children"]): Element =>
  element(name, "syncml", children);
const m = (name: string, ...children: Element["children"]): Element =>
  element(name, "metinf", children);
const d = (name: string, ...children: Element["children"]): Element =>
  element(name, "devinf", children);

/** WBXML 1.2, public id 0x1201 (mb_u_int32 A4 01), charset 106 (6A). */
const HEADER = [0x02, 0xa4, 0x01, 0x6a] as const;

/** A minimal SyncML DM message, token by token (SyncML 1.2 code page 0). */
const MINIMAL = bytes(
  HEADER,
  0x00, // string table length 0
  0x6d, // SyncML, with content
  0x6c, // SyncHdr
  0x71,
  strI("1.2"),
  0x01, // VerDTD
  0x72,
  strI("DM/1.2"),
  0x01, // VerProto
  0x65,
  strI("1"),
  0x01, // SessionID
  0x5b,
  strI("1"),
  0x01, // MsgID
  0x6e,
  0x57,
  strI("http://srv"),
  0x01,
  0x01, // Target/LocURI
  0x67,
  0x57,
  strI("IMEI:493005100592800"),
  0x01,
  0x01, // Source/LocURI
  0x01, // /SyncHdr
  0x6b, // SyncBody
  0x46,
  0x4b,
  strI("1"),
  0x01,
  0x4f,
  strI("1201"),
  0x01,
  0x01, // Alert: CmdID, Data
  0x12, // Final, empty
  0x01, // /SyncBody
  0x01, // /SyncML
);

const MINIMAL_TREE = s(
  "SyncML",
  s(
    "SyncHdr",
    s("VerDTD", "1.2"),
    s("VerProto", "DM/1.2"),
    s("SessionID", "1"),
    s("MsgID", "1"),
    s("Target", s("LocURI", "http://srv")),
    s("Source", s("LocURI", "IMEI:493005100592800")),
  ),
  s("SyncBody", s("Alert", s("CmdID", "1"), s("Data", "1201")), s("Final")),
);

function roundTrip(tree: Element): Element {
  return decodeWbxml(encodeWbxml(tree));
}

describe("WBXML byte vectors", () => {
  test("header of WBXML 1.2 + SyncML 1.2 + UTF-8 is 02 A4 01 6A", () => {
    const out = encodeWbxml(s("SyncML"));
    assert.deepEqual([...out.subarray(0, 4)], [...HEADER]);
    // No repeated strings: an empty string table, then the empty SyncML tag (0x2D).
    assert.deepEqual([...out], [...HEADER, 0x00, 0x2d]);
  });

  test("a minimal SyncML message decodes token by token", () => {
    assert.deepEqual(decodeWbxml(MINIMAL), MINIMAL_TREE);
  });

  test("our encoding of that message is exactly those bytes", () => {
    assert.deepEqual(encodeWbxml(MINIMAL_TREE), MINIMAL);
  });

  test("MetInf switches to code page 1 and back to 0", () => {
    const tree = s("Meta", m("Format", "b64"), m("Type", "syncml:auth-md5"));
    const out = encodeWbxml(s("SyncML", tree, s("Final")));
    assert.deepEqual(
      [...out],
      [
        ...HEADER,
        0x00,
        0x6d,
        0x5a, // Meta
        0x00,
        0x01, // SWITCH_PAGE 1
        0x47,
        ...strI("b64"),
        0x01, // Format
        0x53,
        ...strI("syncml:auth-md5"),
        0x01, // Type
        0x01, // /Meta
        0x00,
        0x00, // SWITCH_PAGE 0
        0x12, // Final
        0x01,
      ],
    );
    assert.deepEqual(decodeWbxml(out), s("SyncML", tree, s("Final")));
  });

  test("DevInf 1.2 (0x1203) and MetInf 1.2 (0x1202) documents", () => {
    const devinf = d("DevInf", d("VerDTD", "1.2"), d("Man", "Acme"));
    assert.deepEqual(
      [...encodeWbxml(devinf)],
      [
        0x02,
        0xa4,
        0x03,
        0x6a,
        0x00,
        0x4a,
        0x65,
        ...strI("1.2"),
        0x01,
        0x51,
        ...strI("Acme"),
        0x01,
        0x01,
      ],
    );
    // A stand-alone MetInf document keeps code page 1, as libwbxml writes it.
    const metinf = m("MetInf", m("MaxMsgSize", "5000"));
    assert.deepEqual(
      [...encodeWbxml(metinf)],
      [0x02, 0xa4, 0x02, 0x6a, 0x00, 0x00, 0x01, 0x4e, 0x4c, ...strI("5000"), 0x01, 0x01],
    );
    assert.deepEqual(roundTrip(devinf), devinf);
    assert.deepEqual(roundTrip(metinf), metinf);
  });

  test("repeated strings go to the string table and are written as STR_T", () => {
    const uri = "./DevInfo/DevId";
    const tree = s(
      "SyncML",
      s("Status", s("TargetRef", uri)),
      s("Results", s("Item", s("Source", s("LocURI", uri)))),
      s("Final"),
    );
    const out = encodeWbxml(tree);
    const table = [...new TextEncoder().encode(uri), 0x00];
    assert.deepEqual([...out.subarray(4, 5 + table.length)], [table.length, ...table]);
    // Both occurrences are references to offset 0.
    const body = [...out.subarray(5 + table.length)];
    assert.equal(body.filter((b, i) => b === 0x83 && body[i + 1] === 0x00).length, 2);
    assert.deepEqual(decodeWbxml(out), tree);
  });

  test("a table of hundreds of strings, including look-alikes, stays exact across calls", () => {
    // Same length, same sampled characters: the table's cheap key collides, contents decide.
    const uris = Array.from({ length: 700 }, (_, i) => `./Vendor/N${String(i).padStart(4, "0")}/x`);
    const items = uris.flatMap((u) => [
      s("Item", s("Target", s("LocURI", u))),
      s("Item", s("Source", s("LocURI", u))),
    ]);
    const once = uris.map((u) => s("LocName", `${u}!`));
    const tree = s("SyncML", s("Get", ...items, ...once));
    for (let round = 0; round < 3; round++) {
      const out = encodeWbxml(tree);
      assert.deepEqual(decodeWbxml(out, { maxElements: 10_000 }), tree);
      // Every repeated URI is in the table (length, NUL), the single-use ones are not.
      const tableLength = uris.reduce((n, u) => n + u.length + 1, 0);
      assert.deepEqual([...out.subarray(4, 6)], [0x80 | (tableLength >> 7), tableLength & 0x7f]);
    }
    // A small message after the big one gets an empty table again.
    assert.equal(encodeWbxml(MINIMAL_TREE)[4], 0);
  });

  test("strings shorter than four characters stay inline even when repeated", () => {
    const tree = s(
      "SyncML",
      s("CmdID", "1"),
      s("CmdID", "1"),
      s("MsgRef", "abc"),
      s("MsgRef", "abc"),
    );
    assert.equal(encodeWbxml(tree)[4], 0x00);
  });

  test("the string table is read: STR_T, literal tags and a string public id", () => {
    const table = bytes("-//SYNCML//DTD SyncML 1.2//EN", 0, "LocURI", 0, "xyz", 0);
    const input = bytes(
      0x03, // WBXML 1.3
      0x00,
      0x00, // public id given as string-table index 0
      0x6a,
      table.length,
      table,
      0x6e, // Target
      0x04,
      30, // LITERAL (no content) naming "LocURI": an empty LocURI
      0x44,
      30,
      0x83,
      37,
      0x83,
      38,
      0x01, // LITERAL_C LocURI, STR_T "xyz", STR_T "yz"
      0x01,
    );
    assert.deepEqual(decodeWbxml(input), s("Target", s("LocURI"), s("LocURI", "xyzyz")));
  });

  test("ENTITY pieces join the surrounding text", () => {
    const input = bytes(
      HEADER,
      0,
      0x4f,
      strI("caf"),
      0x02,
      0x81,
      0x69,
      strI("!"),
      0x02,
      0x87,
      0xec,
      0x00,
      0x01,
    );
    // 0x81 0x69 = U+00E9 é; 0x87 0xEC 0x00 = U+1F600.
    assert.deepEqual(decodeWbxml(input), s("Data", "café!\u{1F600}"));
  });

  test("attributes and processing instructions are skipped", () => {
    const input = bytes(
      HEADER,
      0x04,
      "att",
      0,
      0x43,
      0x05,
      strI("pi"),
      0x01, // PI before the root
      0xcf, // Data with attributes and content
      // ATTRSTART, ATTRVALUE, STR_I, STR_T, SWITCH_PAGE 7, OPAQUE, LITERAL, END
      0x05,
      0x86,
      strI("v"),
      0x83,
      0x00,
      0x00,
      0x07,
      0xc3,
      0x01,
      0x00,
      0x04,
      0x00,
      0x01,
      strI("text"),
      0x01,
      0x43,
      0x06,
      0x01, // PI after the root
    );
    assert.deepEqual(decodeWbxml(input), s("Data", "text"));
  });

  test("mb_u_int32 of five bytes reads up to 2^32-1", () => {
    // OPAQUE length 3 written with leading zero groups (80 80 80 80 03) is still 3.
    const input = bytes(HEADER, 0, 0x4f, 0xc3, 0x80, 0x80, 0x80, 0x80, 0x03, 1, 2, 3, 0x01);
    assert.deepEqual(decodeWbxml(input), s("Data", Uint8Array.from([1, 2, 3])));
  });

  test("every table entry encodes to its token and back", () => {
    const end = 0x01;
    const cases: Array<[Element, number[]]> = [];
    for (const tag of allTags(SYNCML_1_2)) {
      if (tag.ns === "syncml") {
        cases.push([s("SyncML", s(tag.name)), [...HEADER, 0, 0x6d, tag.id, end]]);
      } else {
        // Meta (0x1A) with content, SWITCH_PAGE 1, the MetInf tag, END of Meta, END of SyncML.
        cases.push([
          s("SyncML", s("Meta", m(tag.name))),
          [...HEADER, 0, 0x6d, 0x5a, 0, 1, tag.id, end, end],
        ]);
      }
    }
    for (const tag of allTags(METINF_1_2)) {
      cases.push([m("MetInf", m(tag.name)), [0x02, 0xa4, 0x02, 0x6a, 0, 0, 1, 0x4e, tag.id, end]]);
    }
    for (const tag of allTags(DEVINF_1_2)) {
      cases.push([d("DevInf", d(tag.name)), [0x02, 0xa4, 0x03, 0x6a, 0, 0x4a, tag.id, end]]);
    }
    assert.equal(cases.length, 55 + 18 + 18 + 47);
    for (const [tree, expected] of cases) {
      assert.deepEqual([...encodeWbxml(tree)], expected, JSON.stringify(tree));
      assert.deepEqual(decodeWbxml(Uint8Array.from(expected)), tree);
    }
  });
});

describe("WBXML round trips", () => {
  test("a full DM message with MetInf, opaque data and repeated URIs", () => {
    const meta = s("Meta", m("Format", "b64"), m("Type", "application/octet-stream"));
    const tree = s(
      "SyncML",
      s(
        "SyncHdr",
        s("VerDTD", "1.2"),
        s("VerProto", "DM/1.2"),
        s("SessionID", "1A"),
        s("MsgID", "2"),
        s("Target", s("LocURI", "IMEI:493005100592800")),
        s("Source", s("LocURI", "https://dm.example.net/dm")),
        s(
          "Cred",
          s("Meta", m("Type", "syncml:auth-md5"), m("Format", "b64")),
          s("Data", "Zz6EivR3yeaaENcRN6lpAQ=="),
        ),
        s("Meta", m("MaxMsgSize", "5000"), m("MaxObjSize", "65536")),
      ),
      s(
        "SyncBody",
        s(
          "Status",
          s("CmdID", "1"),
          s("MsgRef", "1"),
          s("CmdRef", "0"),
          s("Cmd", "SyncHdr"),
          s("TargetRef", "https://dm.example.net/dm"),
          s("SourceRef", "IMEI:493005100592800"),
          s("Data", "212"),
        ),
        s(
          "Replace",
          s("CmdID", "2"),
          s(
            "Item",
            s("Target", s("LocURI", "./Vendor/Blob")),
            meta,
            s("Data", Uint8Array.from([0, 1, 2, 0xff, 0x80])),
            s("MoreData"),
          ),
        ),
        s(
          "Exec",
          s("CmdID", "3"),
          s("Correlator", "abc-123"),
          s("Item", s("Target", s("LocURI", "./FUMO/Update"))),
        ),
        s(
          "Get",
          s("CmdID", "4"),
          s("NoResults"),
          s("Item", s("Target", s("LocURI", "./DevInfo/Lang"))),
        ),
        s("Final"),
      ),
    );
    assert.deepEqual(roundTrip(tree), tree);
  });

  test("non-ASCII text, empty opaque and empty elements", () => {
    const tree = s(
      "SyncML",
      s("Data", "Grüße, 端末 \u{1F4F1}"),
      s("Data", new Uint8Array(0)),
      s("Final"),
      s("LocName", "Grüße, 端末 \u{1F4F1}"),
    );
    assert.deepEqual(roundTrip(tree), tree);
  });

  test("empty string children are dropped: the element is written empty", () => {
    const out = encodeWbxml(s("SyncML", s("Data", ""), s("Final")));
    assert.deepEqual([...out], [...HEADER, 0x00, 0x6d, 0x0f, 0x12, 0x01]);
  });

  test("deep nesting round-trips up to the depth limit", () => {
    let tree = s("Data", "leaf");
    for (let i = 0; i < 30; i++) tree = s("Sequence", tree);
    tree = s("SyncML", tree);
    assert.deepEqual(roundTrip(tree), tree);
    let deeper = tree;
    deeper = s("SyncML", s("Atomic", deeper));
    assert.throws(() => decodeWbxml(encodeWbxml(deeper)), { code: "LIMIT_EXCEEDED" });
    assert.deepEqual(decodeWbxml(encodeWbxml(deeper), { maxDepth: 64 }), deeper);
  });

  test("DevInf inside a SyncML Data travels as an embedded WBXML document", () => {
    const devinf = d(
      "DevInf",
      d("VerDTD", "1.2"),
      d("Man", "Device Factory, Inc."),
      d("Mod", "SmartPhone2000"),
      d("DevID", "IMEI:493005100592800"),
      d("DevTyp", "phone"),
      d("SupportLargeObjs"),
    );
    const tree = s(
      "SyncML",
      s("Results", s("Item", s("Source", s("LocURI", "./devinf12")), s("Data", devinf))),
    );
    const out = encodeWbxml(tree);
    const nested = encodeWbxml(devinf);
    // OPAQUE, length, then the nested document beginning 02 A4 03 6A.
    const at = out.indexOf(0xc3);
    assert.deepEqual([...out.subarray(at + 2, at + 2 + nested.length)], [...nested]);
    assert.equal(out[at + 1], nested.length);
    assert.deepEqual(decodeWbxml(out), tree);
  });

  test("the Type announcing embedded DevInf says +wbxml on the wire and +xml in the tree", () => {
    const xmlType = "application/vnd.syncml-devinf+xml";
    const wbxmlType = "application/vnd.syncml-devinf+wbxml";
    const devinf = d("DevInf", d("VerDTD", "1.2"));
    const put = (type: string, data: Element["children"][number]): Element =>
      s(
        "SyncML",
        s(
          "Put",
          s("CmdID", "1"),
          s("Meta", m("Type", type)),
          s(
            "Item",
            s("Source", s("LocURI", "./devinf12")),
            s("Meta", m("Type", type)),
            s("Data", data),
          ),
        ),
      );
    const out = encodeWbxml(put(xmlType, devinf));
    const text = Buffer.from(out).toString("latin1");
    assert.ok(text.includes(wbxmlType) && !text.includes(xmlType));
    assert.deepEqual(decodeWbxml(out), put(xmlType, devinf));
    // A +wbxml Type in the tree is left as it is on the way out and normalised on the way in.
    assert.deepEqual(decodeWbxml(encodeWbxml(put(wbxmlType, devinf))), put(xmlType, devinf));
    // Without embedded DevInf nothing is retyped.
    const bytesItem = put(xmlType, Uint8Array.from([1, 2, 3]));
    assert.deepEqual(roundTrip(bytesItem), bytesItem);
  });

  test("opaque that only looks like DevInf stays bytes", () => {
    const fake = Uint8Array.from([0x02, 0xa4, 0x03, 0x6a, 0x00, 0x99, 0x99]);
    const tree = s("SyncML", s("Data", fake));
    assert.deepEqual(roundTrip(tree), tree);
    // Outside Data the same bytes are never interpreted.
    const good = encodeWbxml(d("DevInf"));
    const elsewhere = s("SyncML", s("LocName", good));
    assert.deepEqual(roundTrip(elsewhere), elsewhere);
  });

  test("an element with no token is refused with its path", () => {
    const bad = s("SyncML", s("SyncBody", s("Bogus", "x")));
    assert.throws(
      () => encodeWbxml(bad),
      (e: unknown) =>
        e instanceof ProtocolError &&
        e.code === "WBXML_UNSUPPORTED" &&
        e.where?.path === "SyncML/SyncBody/Bogus",
    );
    // DevInf outside a Data, or SyncML inside DevInf, has no token either.
    assert.throws(() => encodeWbxml(s("SyncML", d("DevInf"))), { code: "WBXML_UNSUPPORTED" });
    assert.throws(() => encodeWbxml(d("DevInf", s("Data"))), { code: "WBXML_UNSUPPORTED" });
  });

  test("text containing U+0000 is refused", () => {
    assert.throws(() => encodeWbxml(s("SyncML", s("Data", "a\u0000b"))), {
      code: "WBXML_UNSUPPORTED",
    });
    assert.throws(
      () => encodeWbxml(s("SyncML", s("Data", "ab\u0000cd"), s("Data", "ab\u0000cd"))),
      {
        code: "WBXML_UNSUPPORTED",
      },
    );
  });

  test("the encoder's reused buffer does not leak between calls", () => {
    const a = encodeWbxml(MINIMAL_TREE);
    const big = s("SyncML", s("Data", "x".repeat(20_000)));
    const b = encodeWbxml(big);
    const c = encodeWbxml(MINIMAL_TREE);
    assert.deepEqual(a, c);
    assert.deepEqual(decodeWbxml(b), big);
    assert.deepEqual(decodeWbxml(a), MINIMAL_TREE);
  });
});
