/**
 * Round trips over generated messages (fast-check): model → XML → model and model → WBXML →
 * model give back the same message, and every XML the writer emits is DTD-ordered.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { decodeMessage, encodeMessage, messageToXml } from "../../src/omadm/codec.js";
import { parseXml } from "../../src/omadm/xml/reader.js";
import { OMADM_FIXTURES } from "../support/fixtures.js";
import { message } from "./arbitraries.js";
import { dtdViolations } from "./bind-dtd-order.js";

const DIR = pathToFileURL(OMADM_FIXTURES);

describe("round trips", () => {
  test("model → XML → model, compact and indented, text and bytes", () => {
    fc.assert(
      fc.property(message(), (m) => {
        assert.deepStrictEqual(decodeMessage(messageToXml(m)).message, m);
        assert.deepStrictEqual(decodeMessage(messageToXml(m, { indent: true })).message, m);
        const wire = decodeMessage(encodeMessage(m, "xml"));
        assert.equal(wire.encoding, "xml");
        assert.deepStrictEqual(wire.message, m);
      }),
      { numRuns: 200 },
    );
  });

  test("model → WBXML → model, binary Data included", () => {
    fc.assert(
      fc.property(message({ bytes: true }), (m) => {
        const wire = decodeMessage(encodeMessage(m, "wbxml"));
        assert.equal(wire.encoding, "wbxml");
        assert.deepStrictEqual(wire.message, m);
      }),
      { numRuns: 200 },
    );
  });

  test("XML and WBXML agree: XML → model → WBXML → model → XML is the same text", () => {
    fc.assert(
      fc.property(message(), (m) => {
        const xml = messageToXml(m);
        const viaWbxml = decodeMessage(encodeMessage(decodeMessage(xml).message, "wbxml")).message;
        assert.equal(messageToXml(viaWbxml), xml);
      }),
      { numRuns: 100 },
    );
  });

  test("whatever the writer emits is in DTD order", () => {
    fc.assert(
      fc.property(message(), (m) => {
        assert.deepStrictEqual(dtdViolations(parseXml(messageToXml(m))), []);
      }),
      { numRuns: 200 },
    );
    for (const f of readdirSync(DIR).filter((n) => n.endsWith(".xml"))) {
      const m = decodeMessage(readFileSync(new URL(f, DIR))).message;
      assert.deepStrictEqual(dtdViolations(parseXml(messageToXml(m))), [], f);
    }
  });
});
