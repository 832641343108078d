import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeMessage } from "../../src/omadm/codec.js";
import { runCli } from "../support/cli.js";
import { omadmFixtures } from "../support/fixtures.js";

const fixtures = omadmFixtures();
const WBXML_HEADER = [0x02, 0xa4, 0x01, 0x6a];

function assertOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
}

describe("dmguard syncml decode", () => {
  test("prints every public example as indented XML that means the same message", async () => {
    for (const f of fixtures) {
      const r = await runCli(["syncml", "decode", f.path]);
      assert.equal(r.code, 0, `${f.name}: ${r.stderr}`);
      const printed = r.stdout.toString("utf8");
      assert.match(printed, /^<SyncML xmlns="SYNCML:SYNCML1\.2">\n {2}<SyncHdr>/, f.name);
      assert.deepEqual(decodeMessage(printed).message, decodeMessage(f.text).message, f.name);
    }
  });

  test("reads standard input when no file is given", async () => {
    const f = fixtures[0]!;
    const r = await runCli(["syncml", "decode"], f.text);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString(), /<LocURI>IMEI:493005100592800<\/LocURI>/);
  });

  test("malformed XML: exit 1, one line saying what and where", async () => {
    const r = await runCli(
      ["syncml", "decode"],
      "<SyncML xmlns='SYNCML:SYNCML1.2'>\n<SyncHdr></SyncBody>",
    );
    assert.equal(r.code, 1);
    assertOneLineError(r.stderr, /XML_MALFORMED.*line 2:/);
  });

  test("a document type declaration is refused", async () => {
    const xxe = `<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY x SYSTEM "file:///etc/passwd">]><SyncML>&x;</SyncML>`;
    const r = await runCli(["syncml", "decode"], xxe);
    assert.equal(r.code, 1);
    assertOneLineError(r.stderr, /XML_DTD_FORBIDDEN/);
  });

  test("truncated WBXML: exit 1 with a byte offset", async () => {
    const enc = await runCli(["syncml", "encode", "--wbxml", fixtures[0]!.path]);
    const r = await runCli(["syncml", "decode"], enc.stdout.subarray(0, 40));
    assert.equal(r.code, 1);
    assertOneLineError(r.stderr, /WBXML_MALFORMED.*byte \d+/);
  });

  test("a missing file: exit 1 naming it", async () => {
    const r = await runCli(["syncml", "decode", "/nonexistent/capture.xml"]);
    assert.equal(r.code, 1);
    assertOneLineError(r.stderr, /cannot read \/nonexistent\/capture\.xml: no such file/);
  });
});

describe("dmguard syncml encode", () => {
  test("--wbxml writes WBXML 1.2 that decodes back to the same message, for every example", async () => {
    for (const f of fixtures) {
      const r = await runCli(["syncml", "encode", "--wbxml", f.path]);
      assert.equal(r.code, 0, `${f.name}: ${r.stderr}`);
      assert.deepEqual([...r.stdout.subarray(0, 4)], WBXML_HEADER, f.name);
      const back = decodeMessage(new Uint8Array(r.stdout));
      assert.equal(back.encoding, "wbxml");
      assert.deepEqual(back.message, decodeMessage(f.text).message, f.name);
    }
  });

  test("--xml turns WBXML from standard input back into XML", async () => {
    const f = fixtures[5]!;
    const wbxml = await runCli(["syncml", "encode", "--wbxml", f.path]);
    const r = await runCli(["syncml", "encode", "--xml"], wbxml.stdout);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(decodeMessage(r.stdout.toString()).message, decodeMessage(f.text).message);
  });

  test("neither or both encodings: usage error, exit 2", async () => {
    assert.equal((await runCli(["syncml", "encode", fixtures[0]!.path])).code, 2);
    assert.equal(
      (await runCli(["syncml", "encode", "--xml", "--wbxml", fixtures[0]!.path])).code,
      2,
    );
  });
});

describe("dmguard", () => {
  test("an unknown command or option is a usage error, exit 2", async () => {
    assert.equal((await runCli(["no-such-command"])).code, 2);
    assert.equal((await runCli(["syncml", "decode", "--bogus"])).code, 2);
  });

  test("--help exits 0 and lists the syncml commands", async () => {
    const r = await runCli(["syncml", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout.toString(), /decode/);
    assert.match(r.stdout.toString(), /encode/);
  });
});
