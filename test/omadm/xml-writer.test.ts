/**
 * The XML writer on its own: namespaces, escaping, CDATA for markup, bytes as base64, compact and
 * indented forms, and that the reader gets back what was written.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ProtocolError } from "../../src/omadm/errors.js";
import { type Content, element } from "../../src/omadm/model/element.js";
import { parseXml } from "../../src/omadm/xml/reader.js";
import { writeXml, writeXmlFragment } from "../../src/omadm/xml/writer.js";

const leaf = (name: string, ...children: Content[]) => element(name, "syncml", children);

describe("writeXml", () => {
  test("compact by default; the root declares SyncML, a MetInf element its own namespace", () => {
    const tree = element("SyncML", "syncml", [
      element("Meta", "syncml", [
        element("Format", "metinf", ["b64"]),
        element("MaxMsgSize", "metinf", ["5000"]),
      ]),
      element("Final", "syncml"),
    ]);
    assert.equal(
      writeXml(tree),
      '<SyncML xmlns="SYNCML:SYNCML1.2"><Meta><Format xmlns="syncml:metinf">b64</Format>' +
        '<MaxMsgSize xmlns="syncml:metinf">5000</MaxMsgSize></Meta><Final/></SyncML>',
    );
  });

  test("a child in its parent's namespace repeats no declaration", () => {
    const tree = element("SyncML", "syncml", [
      leaf("Data", element("DevInf", "devinf", [element("DevID", "devinf", ["x"])])),
    ]);
    assert.equal(
      writeXml(tree),
      '<SyncML xmlns="SYNCML:SYNCML1.2"><Data><DevInf xmlns="syncml:devinf"><DevID>x</DevID></DevInf></Data></SyncML>',
    );
  });

  test("declaration and indentation on request; text is never reflowed", () => {
    const tree = element("SyncML", "syncml", [
      element("SyncHdr", "syncml", [leaf("MsgID", "1")]),
      leaf("Data", "  two\n lines "),
    ]);
    assert.equal(
      writeXml(tree, { indent: true, declaration: true }),
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<SyncML xmlns="SYNCML:SYNCML1.2">',
        "  <SyncHdr>",
        "    <MsgID>1</MsgID>",
        "  </SyncHdr>",
        "  <Data>  two\n lines </Data>",
        "</SyncML>",
      ].join("\n"),
    );
    assert.ok(
      writeXml(tree, { declaration: true }).startsWith(
        '<?xml version="1.0" encoding="UTF-8"?><SyncML',
      ),
    );
  });

  test("escapes &, < and > in text; CR as a character reference", () => {
    assert.equal(
      writeXml(leaf("Data", "a & b > c")),
      '<Data xmlns="SYNCML:SYNCML1.2">a &amp; b &gt; c</Data>',
    );
    assert.equal(
      writeXml(leaf("Data", "x\r\ny")),
      '<Data xmlns="SYNCML:SYNCML1.2">x&#13;\ny</Data>',
    );
  });

  test("text holding markup goes in CDATA, unless CDATA cannot carry it", () => {
    const xml = '<DevInf xmlns="syncml:devinf"><Man>A&amp;B</Man></DevInf>';
    assert.equal(
      writeXml(leaf("Data", xml)),
      `<Data xmlns="SYNCML:SYNCML1.2"><![CDATA[${xml}]]></Data>`,
    );
    assert.equal(
      writeXml(leaf("Data", "<a>]]></a>")),
      '<Data xmlns="SYNCML:SYNCML1.2">&lt;a&gt;]]&gt;&lt;/a&gt;</Data>',
    );
  });

  test("bytes are written as base64", () => {
    assert.equal(
      writeXml(leaf("Data", new Uint8Array([0, 1, 2, 253, 254, 255]))),
      '<Data xmlns="SYNCML:SYNCML1.2">AAEC/f7/</Data>',
    );
  });

  test("characters XML 1.0 cannot carry are refused, not silently dropped", () => {
    for (const bad of ["\u0000", "a\u0008b", "\uD800", "x\uDC00", "\uFFFF"]) {
      assert.throws(
        () => writeXml(leaf("Data", bad)),
        (e: unknown) => e instanceof ProtocolError && e.code === "SYNCML_INVALID",
      );
    }
    // Astral characters are fine.
    assert.equal(writeXml(leaf("Data", "😀")), '<Data xmlns="SYNCML:SYNCML1.2">😀</Data>');
  });

  test("whatever text is written, the reader gets it back", () => {
    const samples = [
      "",
      " ",
      "\n\t ",
      "<>&\"'",
      "]]>",
      "<![CDATA[x]]>",
      "a\r\nb\rc",
      "&amp;&lt;",
      "€ 😀",
      "<DevInf><x/></DevInf>",
    ];
    for (const s of samples) {
      const back = parseXml(writeXml(element("A", "syncml", [leaf("B", s)])));
      assert.deepStrictEqual(
        back.children[0],
        leaf("B", ...(s === "" ? [] : [s])),
        JSON.stringify(s),
      );
    }
  });

  test("writeXmlFragment writes content in its namespace context", () => {
    assert.equal(
      writeXmlFragment(
        ["a&", element("DevInf", "devinf", ["x"]), element("B", "syncml")],
        "syncml",
      ),
      'a&amp;<DevInf xmlns="syncml:devinf">x</DevInf><B/>',
    );
  });
});
