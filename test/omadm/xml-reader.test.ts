/**
 * The XML reader on its own: what it tolerates, what it refuses (DTDs, entities, limits) and
 * where it says the fault is.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ProtocolError, type ProtocolErrorCode } from "../../src/omadm/errors.js";
import { type Content, type Element, isElement } from "../../src/omadm/model/element.js";
import { parseXml } from "../../src/omadm/xml/reader.js";

function el(e: Content | undefined): Element {
  assert.ok(e !== undefined && isElement(e), "expected an element");
  return e;
}

/** The element at a path of child-element indexes. */
function at(root: Element, ...idx: number[]): Element {
  let e = root;
  for (const i of idx) e = el(e.children.filter(isElement)[i]);
  return e;
}

function refused(xml: string, code: ProtocolErrorCode, limits?: Parameters<typeof parseXml>[1]) {
  try {
    parseXml(xml, limits);
  } catch (e) {
    assert.ok(e instanceof ProtocolError, `expected ProtocolError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`accepted: ${JSON.stringify(xml.slice(0, 80))}`);
}

describe("parseXml: what a DM peer may send", () => {
  test("XML declaration, processing instructions and comments around and inside the root", () => {
    const root = parseXml(
      `\uFEFF<?xml version="1.0" encoding="UTF-8"?>\n<!-- before --><?app hint?>\n` +
        `<SyncML xmlns='SYNCML:SYNCML1.2'><!-- a --><SyncHdr><?pi x?><MsgID>1</MsgID></SyncHdr></SyncML>\n<!-- after --><?tail?>\n`,
    );
    assert.deepStrictEqual(root, {
      name: "SyncML",
      ns: "syncml",
      children: [
        {
          name: "SyncHdr",
          ns: "syncml",
          children: [{ name: "MsgID", ns: "syncml", children: ["1"] }],
        },
      ],
    });
  });

  test("leaf text is kept verbatim; whitespace-only text between elements is layout", () => {
    const root = parseXml("<A>\n  <B>  x y  </B>\n  <C> </C>\n  <D></D><E/>\n</A>");
    assert.deepStrictEqual(
      root.children.map((c) => (isElement(c) ? [c.name, c.children] : c)),
      [
        ["B", ["  x y  "]],
        ["C", [" "]],
        ["D", []],
        ["E", []],
      ],
    );
  });

  test("a comment inside text does not split it; CDATA becomes text, even all whitespace", () => {
    const root = parseXml(
      "<A><B>one<!-- c -->two</B><C><![CDATA[<x>&amp;]]></C><D>\n<![CDATA[ ]]>\n<E/></D></A>",
    );
    assert.deepStrictEqual(at(root, 0).children, ["onetwo"]);
    assert.deepStrictEqual(at(root, 1).children, ["<x>&amp;"]);
    assert.deepStrictEqual(at(root, 2).children[0], "\n \n");
  });

  test("the five predefined entities and character references are decoded", () => {
    const root = parseXml("<A>&lt;&gt;&amp;&quot;&apos; &#65;&#x42;&#x1F600; &#13;</A>");
    assert.deepStrictEqual(root.children, [`<>&"' AB\u{1F600} \r`]);
  });

  test("line ends are normalised (XML 1.0 §2.11); a CR survives only as &#13;", () => {
    const root = parseXml("<A><B>1\r\n2\r3</B><C><![CDATA[x\r\ny]]></C><D>&#13;&#10;</D></A>");
    assert.deepStrictEqual(at(root, 0).children, ["1\n2\n3"]);
    assert.deepStrictEqual(at(root, 1).children, ["x\ny"]);
    assert.deepStrictEqual(at(root, 2).children, ["\r\n"]);
  });

  test("attributes in either quote; unrelated attributes are ignored", () => {
    const root = parseXml(`<SyncML xmlns="SYNCML:SYNCML1.2" a='1' b = "2"><X c='"'/></SyncML>`);
    assert.equal(root.ns, "syncml");
    assert.equal(at(root, 0).name, "X");
  });

  test("MetInf and DevInf default namespaces, inherited by descendants", () => {
    const root = parseXml(
      `<SyncML xmlns='SYNCML:SYNCML1.2'><Meta><Type xmlns="syncml:metinf">t</Type></Meta>` +
        `<Data><DevInf xmlns="syncml:devinf"><DevID>x</DevID></DevInf></Data><After/></SyncML>`,
    );
    const meta = at(root, 0);
    assert.equal(meta.ns, "syncml");
    assert.equal(at(meta, 0).ns, "metinf");
    assert.equal(at(root, 1, 0).ns, "devinf");
    assert.equal(at(root, 1, 0, 0).ns, "devinf");
    assert.equal(at(root, 2).ns, "syncml");
  });

  test("namespace URIs match without regard to case; SyncML 1.1 is SyncML", () => {
    const root = parseXml(
      `<SyncML xmlns='syncml:syncml1.1'><A xmlns='SYNCML:METINF'/><B xmlns=' Syncml:DevInf '/></SyncML>`,
    );
    assert.deepStrictEqual(
      [root.ns, at(root, 0).ns, at(root, 1).ns],
      ["syncml", "metinf", "devinf"],
    );
  });

  test("prefixed names resolve through xmlns:p declarations, in scope for descendants", () => {
    const root = parseXml(
      `<s:SyncML xmlns:s="SYNCML:SYNCML1.2" xmlns:m="syncml:metinf">` +
        `<s:Meta><m:Format>b64</m:Format><Plain/></s:Meta></s:SyncML>`,
    );
    assert.equal(root.name, "SyncML");
    assert.equal(at(root, 0).name, "Meta");
    assert.deepStrictEqual(at(root, 0, 0), { name: "Format", ns: "metinf", children: ["b64"] });
    // No default namespace was declared: the root's vocabulary is assumed.
    assert.equal(at(root, 0, 1).ns, "syncml");
  });

  test("an element in an unknown namespace inherits its parent's", () => {
    const root = parseXml(
      `<SyncML><Meta><Format xmlns="syncml:metinf"><Odd xmlns="urn:other">x</Odd></Format></Meta></SyncML>`,
    );
    assert.equal(root.ns, "syncml", "no declaration at all: SyncML");
    assert.equal(at(root, 0, 0, 0).ns, "metinf");
  });

  test("non-ASCII names and text", () => {
    const root = parseXml("<Données><élément>€ 😀</élément></Données>");
    assert.equal(root.name, "Données");
    assert.deepStrictEqual(at(root, 0).children, ["€ 😀"]);
  });
});

describe("parseXml: DTDs and entities are refused", () => {
  test("XXE: an external entity never gets read", () => {
    const e = refused(
      `<?xml version="1.0"?>\n<!DOCTYPE SyncML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<SyncML>&xxe;</SyncML>`,
      "XML_DTD_FORBIDDEN",
    );
    assert.equal(e.where?.line, 2);
    assert.equal(e.where?.column, 1);
  });

  test("billion laughs: no expansion is attempted", () => {
    const lol = [
      '<!DOCTYPE lolz [<!ENTITY lol "lol">',
      ...Array.from(
        { length: 9 },
        (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ""};`.repeat(10)}">`,
      ),
      "]>",
      "<lolz>&lol9;</lolz>",
    ].join("\n");
    const t0 = performance.now();
    refused(lol, "XML_DTD_FORBIDDEN");
    assert.ok(performance.now() - t0 < 50);
  });

  test("any DOCTYPE, even without an internal subset or in lower case", () => {
    refused(
      `<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN" "x.dtd"><SyncML/>`,
      "XML_DTD_FORBIDDEN",
    );
    refused("<!doctype a><a/>", "XML_DTD_FORBIDDEN");
  });

  test("markup declarations inside an element", () => {
    refused(`<a><!ENTITY x "y"></a>`, "XML_DTD_FORBIDDEN");
    refused("<a><!ELEMENT a ANY></a>", "XML_DTD_FORBIDDEN");
  });

  test("references to undeclared entities, in text and in attribute values", () => {
    const e = refused("<a>\n  x &nbsp; y</a>", "XML_DTD_FORBIDDEN");
    assert.deepStrictEqual([e.where?.line, e.where?.column], [2, 5]);
    refused(`<a b="&ext;"/>`, "XML_DTD_FORBIDDEN");
  });
});

describe("parseXml: limits", () => {
  const nested = (n: number) => "<a>".repeat(n) + "</a>".repeat(n);

  test("maxBytes is checked before parsing", () => {
    refused(`<a>${"x".repeat(100)}</a>`, "LIMIT_EXCEEDED", { maxBytes: 100 });
    assert.doesNotThrow(() => parseXml(`<a>${"x".repeat(93)}</a>`, { maxBytes: 100 }));
  });

  test("maxDepth: the limit itself passes, one more fails", () => {
    assert.doesNotThrow(() => parseXml(nested(5), { maxDepth: 5 }));
    const e = refused(nested(6), "LIMIT_EXCEEDED", { maxDepth: 5 });
    assert.equal(e.where?.offset, 15);
  });

  test("maxElements: the limit itself passes, one more fails", () => {
    const flat = (n: number) => `<a>${"<b/>".repeat(n - 1)}</a>`;
    assert.doesNotThrow(() => parseXml(flat(10), { maxElements: 10 }));
    refused(flat(11), "LIMIT_EXCEEDED", { maxElements: 10 });
  });

  test("default limits stop deep nesting long before the stack would", () => {
    refused(nested(100_000), "LIMIT_EXCEEDED");
    refused(`<a>${"<b/>".repeat(30_000)}</a>`, "LIMIT_EXCEEDED");
  });

  test("pathological shapes stay linear: many attributes, references, comments", () => {
    const shapes = [
      `<a ${Array.from({ length: 40_000 }, (_, i) => `a${i}="v"`).join(" ")}/>`,
      `<a>${"&amp;".repeat(150_000)}</a>`,
      `<a>${"x<!---->".repeat(100_000)}</a>`,
      `<a>${"<b x='1'>t</b>".repeat(19_000)}</a>`,
    ];
    for (const xml of shapes) {
      const t0 = performance.now();
      parseXml(xml);
      assert.ok(performance.now() - t0 < 1_000, `${xml.slice(0, 20)}… took too long`);
    }
  });

  test("what the input names is quoted short in the message; where it is, in full", () => {
    const name = `A${"a".repeat(500_000)}`;
    const e = refused(`<a x="1" ${name}></a>`, "XML_MALFORMED");
    assert.ok(e.message.length < 400, `a message of ${e.message.length} characters`);
    assert.match(e.message, /^expected '=' after attribute Aa+… \(line 1:\d+, byte \d+\)$/);
  });

  test("an iterative scanner: huge but permitted depth does not exhaust the stack", () => {
    const deep = parseXml(nested(50_000), { maxDepth: 60_000, maxElements: 60_000 });
    assert.equal(deep.name, "a");
  });
});

describe("parseXml: malformed input is located", () => {
  const cases: Array<[string, string, number, number]> = [
    ["empty input", "", 1, 1],
    ["only whitespace", "  \n ", 2, 2],
    ["unclosed root", "<a>", 1, 4],
    ["unclosed child", "<a>\n<b>text</a>", 2, 8],
    ["mismatched end tag", "<a>\n  <b>\n</a>", 3, 1],
    ["end tag before any element", "</a>", 1, 1],
    ["two roots", "<a/><b/>", 1, 5],
    ["text before the root", "junk<a/>", 1, 1],
    ["text after the root", "<a/>\n junk", 2, 2],
    ["unquoted attribute", "<a b=c/>", 1, 6],
    ["attribute without value", "<a b/>", 1, 5],
    ["duplicate attribute", "<a b='1' b='2'/>", 1, 10],
    ["'<' in attribute value", "<a b='<'/>", 1, 7],
    ["no space between attributes", "<a b='1'c='2'/>", 1, 9],
    ["unterminated start tag", "<a b='1'", 1, 1],
    ["unterminated attribute value", "<a b='1/>", 1, 6],
    ["unterminated comment", "<a><!-- x</a>", 1, 4],
    ["unterminated CDATA", "<a><![CDATA[x</a>", 1, 4],
    ["unterminated processing instruction", "<?xml version='1.0'", 1, 1],
    ["CDATA outside the root", "<![CDATA[x]]><a/>", 1, 1],
    ["bare ampersand", "<a>AT&T</a>", 1, 6],
    ["reference without semicolon", "<a>&amp</a>", 1, 4],
    ["malformed character reference", "<a>&#xZZ;</a>", 1, 4],
    ["character reference to a surrogate", "<a>&#xD800;</a>", 1, 4],
    ["character reference to NUL", "<a>&#0;</a>", 1, 4],
    ["control character", "<a>\n\u0001</a>", 2, 1],
    ["unpaired surrogate", "<a>\uD800</a>", 1, 4],
    ["U+FFFE", "<a>\uFFFE</a>", 1, 4],
    ["invalid element name", "<1a/>", 1, 2],
    ["space after '<'", "< a/>", 1, 2],
    ["two colons in a name", "<a:b:c/>", 1, 5],
    ["undeclared prefix", "<p:a/>", 1, 2],
    ["'/' not followed by '>'", "<a/ >", 1, 4],
    ["junk in end tag", "<a></a x>", 1, 8],
    ["unknown '<!' markup", "<a><!foo></a>", 1, 4],
  ];
  for (const [what, xml, line, column] of cases) {
    test(`${what} → XML_MALFORMED at ${line}:${column}`, () => {
      const e = refused(xml, "XML_MALFORMED");
      assert.deepStrictEqual([e.where?.line, e.where?.column], [line, column], e.message);
      assert.equal(typeof e.where?.offset, "number");
      assert.match(e.message, new RegExp(`line ${line}:${column}`));
    });
  }
});
