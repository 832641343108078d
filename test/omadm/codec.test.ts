/**
 * The public codec entry: encoding detection, media types, byte-level XML decoding (byte order
 * marks, declared encodings, invalid UTF-8), limits, and agreement with libwbxml.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import {
  decodeMessage,
  detectEncoding,
  encodeMessage,
  encodingForMediaType,
  MEDIA_TYPE,
  messageToXml,
} from "../../src/omadm/codec.js";
import { ProtocolError, type ProtocolErrorCode } from "../../src/omadm/errors.js";
import { OMADM_FIXTURES } from "../support/fixtures.js";

const DIR = pathToFileURL(OMADM_FIXTURES);
const FIXTURES = readdirSync(DIR).filter((f) => f.endsWith(".xml"));
const sample = () => readFileSync(new URL("oma-spec-2.6.2.3-pkg3-client-results.xml", DIR));

function fails(fn: () => unknown, code: ProtocolErrorCode): ProtocolError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ProtocolError, String(e));
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail("no error");
}

const text = (s: string) => new TextEncoder().encode(s);
const MINIMAL =
  "<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>" +
  "<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>t</LocURI></Target><Source><LocURI>s</LocURI></Source>" +
  "</SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data><Item><Data>Grüße €</Data></Item></Alert><Final/></SyncBody></SyncML>";

function alertText(m: ReturnType<typeof decodeMessage>["message"]) {
  const a = m.body.commands[0];
  return a?.kind === "Alert" ? a.items[0]?.data : undefined;
}

describe("detectEncoding", () => {
  test("XML: '<', leading whitespace, a UTF-8 or UTF-16 byte order mark", () => {
    for (const b of [
      [0x3c],
      [0x20, 0x3c],
      [0x0a],
      [0x0d, 0x0a],
      [0x09],
      [0xef, 0xbb, 0xbf, 0x3c],
      [0xfe, 0xff],
      [0xff, 0xfe],
    ]) {
      assert.equal(detectEncoding(new Uint8Array(b)), "xml", String(b));
    }
  });

  test("WBXML: version 1.1–1.3 and a complete public id", () => {
    assert.equal(detectEncoding(new Uint8Array([0x02, 0xa4, 0x01, 0x6a])), "wbxml");
    assert.equal(
      detectEncoding(new Uint8Array([0x01, 0x00, 0x00])),
      "wbxml",
      "public id from the string table",
    );
    assert.equal(detectEncoding(new Uint8Array([0x03, 0x01])), "wbxml", "unknown public id");
    assert.equal(detectEncoding(encodeMessage(decodeMessage(sample()).message, "wbxml")), "wbxml");
  });

  test("anything else is unknown", () => {
    for (const b of [
      [],
      [0x02],
      [0x02, 0x80, 0x80, 0x80, 0x80, 0x80],
      [0x00, 0x01],
      [0x04, 0x01],
      [0x7b],
      [0xef, 0xbb, 0xbf, 0x7b],
    ]) {
      assert.equal(detectEncoding(new Uint8Array(b)), undefined, String(b));
    }
  });
});

describe("media types", () => {
  test("the DM types and the data-sync ones, parameters and case ignored", () => {
    assert.deepStrictEqual(MEDIA_TYPE, {
      xml: "application/vnd.syncml.dm+xml",
      wbxml: "application/vnd.syncml.dm+wbxml",
    });
    assert.equal(encodingForMediaType("application/vnd.syncml.dm+xml"), "xml");
    assert.equal(encodingForMediaType("application/vnd.syncml.dm+wbxml"), "wbxml");
    assert.equal(encodingForMediaType("application/vnd.syncml+xml; charset=UTF-8"), "xml");
    assert.equal(encodingForMediaType(" Application/VND.SyncML+WBXML ;charset=utf-8"), "wbxml");
    assert.equal(encodingForMediaType("application/xml"), undefined);
    assert.equal(encodingForMediaType(""), undefined);
  });
});

describe("decodeMessage", () => {
  test("text and bytes decode alike; the encoding is reported", () => {
    const bytes = sample();
    const fromBytes = decodeMessage(bytes);
    const fromText = decodeMessage(bytes.toString("utf8"));
    assert.equal(fromBytes.encoding, "xml");
    assert.deepStrictEqual(fromText, fromBytes);
    const wbxml = decodeMessage(encodeMessage(fromBytes.message, "wbxml"));
    assert.equal(wbxml.encoding, "wbxml");
    assert.deepStrictEqual(wbxml.message, fromBytes.message);
  });

  test("UTF-8 with a byte order mark, UTF-16 either way round", () => {
    const utf8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(MINIMAL)]);
    assert.equal(alertText(decodeMessage(utf8).message), "Grüße €");
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(MINIMAL, "utf16le")]);
    assert.equal(alertText(decodeMessage(le).message), "Grüße €");
    const be = Buffer.from(le);
    be.swap16();
    assert.equal(alertText(decodeMessage(be).message), "Grüße €");
    assert.equal(alertText(decodeMessage(`\uFEFF${MINIMAL}`).message), "Grüße €");
  });

  test("a declared single-byte encoding is honoured", () => {
    const latin1 = Buffer.from(
      `<?xml version="1.0" encoding="ISO-8859-1"?>\n${MINIMAL.replace(" €", "")}`,
      "latin1",
    );
    assert.equal(alertText(decodeMessage(latin1).message), "Grüße");
    const declaredUtf8 = text(`<?xml version='1.0' encoding='utf-8'?>${MINIMAL}`);
    assert.equal(alertText(decodeMessage(declaredUtf8).message), "Grüße €");
  });

  test("an unknown or impossible declared encoding is ENCODING_UNKNOWN", () => {
    fails(
      () => decodeMessage(text(`<?xml version="1.0" encoding="x-klingon"?>${MINIMAL}`)),
      "ENCODING_UNKNOWN",
    );
    fails(
      () => decodeMessage(text(`<?xml version="1.0" encoding="UTF-16"?>${MINIMAL}`)),
      "ENCODING_UNKNOWN",
    );
  });

  test("invalid UTF-8 is malformed, located at the bad byte", () => {
    const good = text(MINIMAL);
    const at = MINIMAL.indexOf("Grüße");
    const bad = Buffer.concat([good.subarray(0, at), Buffer.from([0xc3, 0x28]), good.subarray(at)]);
    const e = fails(() => decodeMessage(bad), "XML_MALFORMED");
    assert.equal(e.where?.offset, at);
    fails(
      () => decodeMessage(Buffer.concat([good, Buffer.from([0xed, 0xa0, 0x80])])),
      "XML_MALFORMED",
    );
  });

  test("neither XML nor WBXML is ENCODING_UNKNOWN, empty input too", () => {
    fails(() => decodeMessage(new Uint8Array()), "ENCODING_UNKNOWN");
    fails(() => decodeMessage(text('{"SyncML": 1}')), "ENCODING_UNKNOWN");
    fails(() => decodeMessage(""), "XML_MALFORMED");
  });

  test("the size limit is checked before anything else", () => {
    const junk = new Uint8Array(2048).fill(0x7b);
    fails(() => decodeMessage(junk, { limits: { maxBytes: 1024 } }), "LIMIT_EXCEEDED");
    fails(() => decodeMessage("x".repeat(2048), { limits: { maxBytes: 1024 } }), "LIMIT_EXCEEDED");
    const wbxml = encodeMessage(decodeMessage(sample()).message, "wbxml");
    fails(() => decodeMessage(wbxml, { limits: { maxBytes: wbxml.length - 1 } }), "LIMIT_EXCEEDED");
  });

  test("depth and element limits reach both decoders", () => {
    const bytes = sample();
    const wbxml = encodeMessage(decodeMessage(bytes).message, "wbxml");
    for (const input of [bytes, wbxml]) {
      fails(() => decodeMessage(input, { limits: { maxDepth: 3 } }), "LIMIT_EXCEEDED");
      fails(() => decodeMessage(input, { limits: { maxElements: 10 } }), "LIMIT_EXCEEDED");
    }
  });
});

describe("encodeMessage and messageToXml", () => {
  test("XML on the wire is UTF-8 with a declaration; WBXML 1.2 with the SyncML 1.2 public id", () => {
    const m = decodeMessage(text(MINIMAL)).message;
    const xml = Buffer.from(encodeMessage(m, "xml")).toString("utf8");
    assert.ok(
      xml.startsWith('<?xml version="1.0" encoding="UTF-8"?><SyncML xmlns="SYNCML:SYNCML1.2">'),
    );
    assert.ok(xml.includes("Grüße €"));
    const wbxml = encodeMessage(m, "wbxml");
    assert.deepStrictEqual([...wbxml.subarray(0, 4)], [0x02, 0xa4, 0x01, 0x6a]);
    fails(() => encodeMessage(m, "json" as never), "ENCODING_UNKNOWN");
  });

  test("messageToXml: compact, or indented for people", () => {
    const m = decodeMessage(text(MINIMAL)).message;
    assert.ok(!messageToXml(m).includes("\n"));
    const pretty = messageToXml(m, { indent: true });
    assert.ok(
      pretty.startsWith('<SyncML xmlns="SYNCML:SYNCML1.2">\n  <SyncHdr>\n    <VerDTD>1.2</VerDTD>'),
    );
    assert.deepStrictEqual(decodeMessage(pretty).message, m);
  });
});

function bytesAsText(_key: string, value: unknown): unknown {
  if (
    typeof value === "object" &&
    value !== null &&
    (value as { type?: unknown }).type === "Buffer"
  ) {
    return Buffer.from((value as { data: number[] }).data).toString("utf8");
  }
  return value instanceof Uint8Array ? Buffer.from(value).toString("utf8") : value;
}

function hasLibwbxml(): boolean {
  try {
    execFileSync("xml2wbxml", ["-h"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("agreement with libwbxml (an independent codec)", {
  skip: !hasLibwbxml() && "libwbxml2-utils not installed",
}, () => {
  test("each fixture, converted by xml2wbxml, decodes to the same message as its XML", () => {
    const dir = mkdtempSync(join(tmpdir(), "dm-codec-"));
    try {
      for (const f of FIXTURES) {
        const out = join(dir, `${f}.wbxml`);
        execFileSync("xml2wbxml", ["-v", "1.2", "-o", out, new URL(f, DIR).pathname], {
          stdio: "ignore",
        });
        const viaLib = decodeMessage(readFileSync(out));
        assert.equal(viaLib.encoding, "wbxml");
        // libwbxml writes every SyncML Data as OPAQUE; the model keeps those bytes as bytes.
        assert.deepStrictEqual(
          JSON.parse(JSON.stringify(viaLib.message, bytesAsText)),
          JSON.parse(JSON.stringify(decodeMessage(readFileSync(new URL(f, DIR))).message)),
          f,
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
