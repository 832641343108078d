/**
 * Interop with an independent WBXML codec: Debian's libwbxml2-utils (`xml2wbxml`, `wbxml2xml`),
 * on the ten OMA DM 1.2 example messages of OMA-TS-DM_Protocol §2.6 and on documents holding
 * every token of our tables. CI installs the tools; when they are missing these tests fail (not
 * skip) and say how to install them.
 *
 * Trees are compared after `normalize` (whitespace-only text dropped, text trimmed, opaque as
 * text): libwbxml drops "ignorable" whitespace and writes Data content as OPAQUE.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { element } from "../../src/omadm/model/element.js";
import { decodeWbxml } from "../../src/omadm/wbxml/decode.js";
import { encodeWbxml } from "../../src/omadm/wbxml/encode.js";
import { allTags, DEVINF_1_2, METINF_1_2, SYNCML_1_2 } from "../../src/omadm/wbxml/tables.js";
import { parseXml } from "../../src/omadm/xml/reader.js";
import { OMADM_FIXTURES } from "../support/fixtures.js";
import { normalize } from "./wbxml-helpers.js";

const FIXTURES = OMADM_FIXTURES;
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".xml"))
  .sort();

const dir = mkdtempSync(join(tmpdir(), "dmguard-wbxml-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a libwbxml tool; a missing tool is a test failure with the fix in its message. */
function run(tool: "xml2wbxml" | "wbxml2xml", args: string[]): void {
  try {
    execFileSync(tool, args, { stdio: "pipe", timeout: 10_000 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      assert.fail(
        `${tool} not found: install Debian's libwbxml2-utils (apt-get install libwbxml2-utils)`,
      );
    }
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? "";
    assert.fail(`${tool} ${args.join(" ")} failed: ${stderr || String(e)}`);
  }
}

/** libwbxml's encoding of an XML document. */
function libwbxmlEncode(xml: string, name: string): Uint8Array {
  const input = join(dir, `${name}.xml`);
  const output = join(dir, `${name}.lib.wbxml`);
  writeFileSync(input, xml);
  run("xml2wbxml", ["-v", "1.2", "-o", output, input]);
  return new Uint8Array(readFileSync(output));
}

/**
 * libwbxml's decoding of WBXML, as XML text. wbxml2xml writes a DOCTYPE naming the public id;
 * our reader refuses every DTD by design (no entity expansion), so that one line is removed.
 */
function libwbxmlDecode(wbxml: Uint8Array, name: string): string {
  const input = join(dir, `${name}.ours.wbxml`);
  const output = join(dir, `${name}.lib.xml`);
  writeFileSync(input, wbxml);
  run("wbxml2xml", ["-m", "0", "-o", output, input]);
  const xml = readFileSync(output, "utf8");
  const withoutDoctype = xml.replace(/<!DOCTYPE [^>]*>/, "");
  assert.ok(!withoutDoctype.includes("<!DOCTYPE"), "wbxml2xml wrote an unexpected DOCTYPE");
  return withoutDoctype;
}

describe("libwbxml interop on the OMA DM 1.2 example messages", () => {
  assert.equal(fixtures.length, 10, `expected the ten fixtures in ${FIXTURES}`);
  for (const file of fixtures) {
    const name = file.replace(/\.xml$/, "");
    const xml = readFileSync(join(FIXTURES, file), "utf8");

    test(`${name}: xml2wbxml output decodes to our XML reader's tree`, () => {
      const expected = normalize(parseXml(xml));
      const wbxml = libwbxmlEncode(xml, name);
      assert.deepEqual([...wbxml.subarray(0, 4)], [0x02, 0xa4, 0x01, 0x6a]);
      assert.deepEqual(normalize(decodeWbxml(wbxml)), expected);
    });

    test(`${name}: our encoding decodes with wbxml2xml to the same tree`, () => {
      const tree = parseXml(xml);
      const back = libwbxmlDecode(encodeWbxml(tree), name);
      assert.deepEqual(normalize(parseXml(back)), normalize(tree));
    });
  }
});

describe("libwbxml interop on every token of the tables", () => {
  const names = (v: typeof SYNCML_1_2, ns: string): string[] =>
    allTags(v)
      .filter((t) => t.ns === ns)
      .map((t) => t.name);
  const empty = (tags: string[]): string => tags.map((t) => `<${t}/>`).join("");

  test("SyncML 1.2 with MetInf: xml2wbxml writes exactly our bytes, each side decodes the other", () => {
    const tags = names(SYNCML_1_2, "syncml").filter((t) => t !== "SyncML");
    const metinf = names(SYNCML_1_2, "metinf");
    const xml =
      `<SyncML xmlns="SYNCML:SYNCML1.2">${empty(tags)}` +
      `<Meta>${metinf.map((t) => `<${t} xmlns="syncml:metinf"/>`).join("")}</Meta></SyncML>`;
    const tree = element("SyncML", "syncml", [
      ...tags.map((t) => element(t, "syncml")),
      element(
        "Meta",
        "syncml",
        metinf.map((t) => element(t, "metinf")),
      ),
    ]);
    const theirs = libwbxmlEncode(xml, "syncml12-all-tags");
    assert.deepEqual([...encodeWbxml(tree)], [...theirs]);
    assert.deepEqual(decodeWbxml(theirs), tree);
    assert.deepEqual(parseXml(libwbxmlDecode(encodeWbxml(tree), "syncml12-all-tags")), tree);
  });

  test("DevInf 1.2: xml2wbxml writes exactly our bytes, each side decodes the other", () => {
    const tags = names(DEVINF_1_2, "devinf").filter((t) => t !== "DevInf");
    const xml = `<DevInf xmlns="syncml:devinf">${empty(tags)}</DevInf>`;
    const tree = element(
      "DevInf",
      "devinf",
      tags.map((t) => element(t, "devinf")),
    );
    const theirs = libwbxmlEncode(xml, "devinf12-all-tags");
    assert.deepEqual([...encodeWbxml(tree)], [...theirs]);
    assert.deepEqual(decodeWbxml(theirs), tree);
    assert.deepEqual(parseXml(libwbxmlDecode(encodeWbxml(tree), "devinf12-all-tags")), tree);
  });

  test("MetInf 1.2 document: wbxml2xml reads every tag of ours", () => {
    // xml2wbxml cannot write a stand-alone MetInf document ("XML language is unknown"), and
    // wbxml2xml writes it without an xmlns, so the names are compared as text.
    const tags = names(METINF_1_2, "metinf").filter((t) => t !== "MetInf");
    const tree = element(
      "MetInf",
      "metinf",
      tags.map((t) => element(t, "metinf")),
    );
    const xml = libwbxmlDecode(encodeWbxml(tree), "metinf12-all-tags");
    assert.equal(xml.replace(/^<\?xml[^>]*\?>/, ""), `<MetInf>${empty(tags)}</MetInf>`);
  });

  test("DevInf embedded in a SyncML Data travels the same way in both codecs", () => {
    const devinf =
      '<DevInf xmlns="syncml:devinf"><VerDTD>1.2</VerDTD><Man>Device Factory, Inc.</Man>' +
      "<Mod>SmartPhone2000</Mod><DevID>IMEI:493005100592800</DevID><DevTyp>phone</DevTyp></DevInf>";
    const xml =
      '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncBody><Results><CmdID>2</CmdID><CmdRef>1</CmdRef>' +
      '<Meta><Type xmlns="syncml:metinf">application/vnd.syncml-devinf+xml</Type></Meta>' +
      `<Item><Source><LocURI>./devinf12</LocURI></Source><Data>${devinf}</Data></Item>` +
      "</Results><Final/></SyncBody></SyncML>";
    const tree = parseXml(xml);
    // libwbxml embeds a WBXML DevInf document in OPAQUE and retypes it `…devinf+wbxml`; so do we.
    const theirs = libwbxmlEncode(xml, "embedded-devinf");
    assert.deepEqual(encodeWbxml(tree), theirs);
    assert.deepEqual(decodeWbxml(theirs), tree);
    // wbxml2xml expands the embedded document because of that Type, and retypes it `…+xml`.
    assert.deepEqual(parseXml(libwbxmlDecode(encodeWbxml(tree), "embedded-devinf")), tree);
  });
});
