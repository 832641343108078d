/**
 * The binding between element trees and typed messages: tolerant reading, the refusals with their
 * element paths, and DTD-ordered writing.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeMessage, encodeMessage, messageToXml } from "../../src/omadm/codec.js";
import { ProtocolError } from "../../src/omadm/errors.js";
import { fromMessage, toMessage } from "../../src/omadm/model/bind.js";
import type { element } from "../../src/omadm/model/element.js";
import type { Command, SyncMLMessage } from "../../src/omadm/model/message.js";
import { parseXml } from "../../src/omadm/xml/reader.js";
import { dtdViolations } from "./bind-dtd-order.js";

const HDR =
  "<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>7</SessionID><MsgID>2</MsgID>" +
  "<Target><LocURI>dev</LocURI></Target><Source><LocURI>srv</LocURI></Source></SyncHdr>";

function doc(body: string, header = HDR): string {
  return `<SyncML xmlns="SYNCML:SYNCML1.2">${header}<SyncBody>${body}</SyncBody></SyncML>`;
}

function read(xml: string): SyncMLMessage {
  return decodeMessage(xml).message;
}

function first(body: string): Command {
  const c = read(doc(body)).body.commands[0];
  assert.ok(c !== undefined);
  return c;
}

function invalid(xml: string, path: string, message?: RegExp): void {
  assert.throws(
    () => read(xml),
    (e: unknown) => {
      assert.ok(e instanceof ProtocolError, String(e));
      assert.equal(e.code, "SYNCML_INVALID", e.message);
      assert.equal(e.where?.path, path, e.message);
      if (message) assert.match(e.message, message);
      return true;
    },
  );
}

const OK_STATUS =
  "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>";

describe("toMessage: tolerant where peers differ", () => {
  test("a minimal message; no Final means more messages follow in the package", () => {
    const m = read(doc(OK_STATUS));
    assert.deepStrictEqual(m.header, {
      verDTD: "1.2",
      verProto: "DM/1.2",
      sessionId: "7",
      msgId: "2",
      target: { locUri: "dev" },
      source: { locUri: "srv" },
    });
    assert.equal(m.body.final, false);
  });

  test("child order is free; leaf values are trimmed", () => {
    const s = first(
      "<Status>\n <Data> 401 </Data><Cmd>\n Get </Cmd><TargetRef> ./a </TargetRef><CmdRef>3</CmdRef>" +
        "<SourceRef>s</SourceRef><TargetRef>./b</TargetRef><MsgRef> 1 </MsgRef><CmdID> 9 </CmdID></Status>",
    );
    assert.deepStrictEqual(s, {
      kind: "Status",
      cmdId: "9",
      msgRef: "1",
      cmdRef: "3",
      cmd: "Get",
      targetRefs: ["./a", "./b"],
      sourceRefs: ["s"],
      code: 401,
      items: [],
    });
  });

  test("a SyncHdr Status without CmdRef refers to command 0", () => {
    const s = first(
      "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><Cmd>SyncHdr</Cmd><Data>212</Data></Status>",
    );
    assert.equal(s.kind === "Status" && s.cmdRef, "0");
  });

  test("Item Data is verbatim, other leaves trimmed", () => {
    const c = first(
      "<Replace><CmdID>1</CmdID><Item><Target><LocURI> ./x </LocURI></Target>" +
        "<Meta><Format xmlns='syncml:metinf'> chr </Format></Meta><Data>  spaced\n value </Data></Item></Replace>",
    );
    assert.deepStrictEqual(c.kind === "Replace" && c.items[0], {
      target: { locUri: "./x" },
      meta: { format: "chr" },
      data: "  spaced\n value ",
    });
  });

  test("unknown elements in SyncHdr, commands, Items and Meta are ignored", () => {
    const header = HDR.replace(
      "</SyncHdr>",
      "<Vendor>x</Vendor><Meta><Anchor/><Mem/></Meta></SyncHdr>",
    );
    const m = read(
      doc(
        "<Delete><CmdID>1</CmdID><Archive/><SftDel/><Item><Target><LocURI>./a</LocURI></Target><Extra/></Item></Delete>",
        header,
      ),
    );
    assert.deepStrictEqual(m.header.meta, {});
    assert.deepStrictEqual(m.body.commands[0], {
      kind: "Delete",
      cmdId: "1",
      items: [{ target: { locUri: "./a" } }],
    });
  });

  test("MetInf elements without their namespace, or wrapped in MetInf, are still read", () => {
    const c = first(
      "<Get><CmdID>1</CmdID><Meta><Type>text/plain</Type><MetInf xmlns='syncml:metinf'><Size>12</Size>" +
        "<EMI>a</EMI><EMI>b</EMI></MetInf></Meta><Item><Target><LocURI>./a</LocURI></Target></Item></Get>",
    );
    assert.deepStrictEqual(c.kind === "Get" && c.meta, {
      type: "text/plain",
      size: 12,
      emi: ["a", "b"],
    });
  });

  test("Correlator, MoreData, NoResp, RespURI, LocName and Lang are read", () => {
    const header = HDR.replace(
      "</SyncHdr>",
      "<RespURI> https://srv/dm?s=7 </RespURI><NoResp/></SyncHdr>",
    ).replace("<LocURI>dev</LocURI>", "<LocURI>dev</LocURI><LocName>phone</LocName>");
    const m = read(
      doc(
        "<Alert><CmdID>1</CmdID><NoResp/><Data>1226</Data><Correlator>c-1</Correlator>" +
          "<Item><Source><LocURI>./FUMO</LocURI></Source><Data>x</Data><MoreData/></Item></Alert>" +
          "<Exec><CmdID>2</CmdID><Correlator>c-2</Correlator><Item><Target><LocURI>./FUMO/Update</LocURI></Target></Item></Exec>" +
          "<Get><CmdID>3</CmdID><Lang>en</Lang><Item><Target><LocURI>./a</LocURI></Target></Item></Get>",
        header,
      ),
    );
    assert.equal(m.header.respUri, "https://srv/dm?s=7");
    assert.equal(m.header.noResp, true);
    assert.deepStrictEqual(m.header.target, { locUri: "dev", locName: "phone" });
    assert.deepStrictEqual(m.body.commands, [
      {
        kind: "Alert",
        cmdId: "1",
        noResp: true,
        data: "1226",
        correlator: "c-1",
        items: [{ source: { locUri: "./FUMO" }, data: "x", moreData: true }],
      },
      {
        kind: "Exec",
        cmdId: "2",
        correlator: "c-2",
        item: { target: { locUri: "./FUMO/Update" } },
      },
      { kind: "Get", cmdId: "3", lang: "en", items: [{ target: { locUri: "./a" } }] },
    ]);
    for (const enc of ["xml", "wbxml"] as const) {
      assert.deepStrictEqual(decodeMessage(encodeMessage(m, enc)).message, m);
    }
  });

  test("an XML document inside Data becomes its XML text and survives both encodings", () => {
    const m = read(
      doc(
        "<Replace><CmdID>1</CmdID><Item><Source><LocURI>./DevInf</LocURI></Source><Data>" +
          "<DevInf xmlns='syncml:devinf'>\n  <Man>A &amp; B</Man>\n  <Mod>X&lt;1</Mod>\n</DevInf>" +
          "</Data></Item></Replace>",
      ),
    );
    const data =
      m.body.commands[0]?.kind === "Replace" ? m.body.commands[0].items[0]?.data : undefined;
    assert.equal(
      data,
      '<DevInf xmlns="syncml:devinf"><Man>A &amp; B</Man><Mod>X&lt;1</Mod></DevInf>',
    );
    assert.ok(messageToXml(m).includes(`<Data><![CDATA[${data}]]></Data>`));
    for (const enc of ["xml", "wbxml"] as const) {
      assert.deepStrictEqual(decodeMessage(encodeMessage(m, enc)).message, m);
    }
  });

  test("WBXML opaque values: bytes in Data stay bytes; base64 fields become base64 text", () => {
    const tree = parseXml(
      doc(
        OK_STATUS.replace(
          "<Data>200</Data>",
          "<Chal><Meta><NextNonce>n</NextNonce></Meta></Chal><Data>401</Data>",
        ) +
          "<Replace><CmdID>2</CmdID><Item><Target><LocURI>./b</LocURI></Target><Data>d</Data></Item></Replace>",
        HDR.replace("</SyncHdr>", "<Cred><Data>c</Data></Cred></SyncHdr>"),
      ),
    );
    // Put opaque bytes where a WBXML decoder would.
    const hdr = tree.children[0] as ReturnType<typeof element>;
    const credData = (hdr.children.at(-1) as ReturnType<typeof element>).children[0] as ReturnType<
      typeof element
    >;
    credData.children.splice(0, 1, new TextEncoder().encode("QnJ1Y2UyOk9oQmVoYXZl"));
    const body = tree.children[1] as ReturnType<typeof element>;
    const status = body.children[0] as ReturnType<typeof element>;
    const nonce = (
      (status.children[4] as ReturnType<typeof element>).children[0] as ReturnType<typeof element>
    ).children[0] as ReturnType<typeof element>;
    nonce.children.splice(0, 1, new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    const item = (body.children[1] as ReturnType<typeof element>).children[1] as ReturnType<
      typeof element
    >;
    (item.children[1] as ReturnType<typeof element>).children.splice(
      0,
      1,
      new Uint8Array([1, 2, 3]),
    );

    const m = toMessage(tree);
    assert.equal(m.header.cred?.data, "QnJ1Y2UyOk9oQmVoYXZl");
    const s = m.body.commands[0];
    assert.equal(s?.kind === "Status" && s.chal?.meta.nextNonce, "3q2+7w==");
    const r = m.body.commands[1];
    assert.deepStrictEqual(r?.kind === "Replace" && r.items[0]?.data, new Uint8Array([1, 2, 3]));
  });
});

describe("toMessage: refusals name the element", () => {
  const status = (inner: string) => `<Status>${inner}</Status>`;
  const cases: Array<[string, string, string]> = [
    ["root is not SyncML", "<SyncMLx/>", "SyncMLx"],
    ["no SyncHdr", '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncBody/></SyncML>', "SyncML"],
    ["no SyncBody", `<SyncML xmlns="SYNCML:SYNCML1.2">${HDR}</SyncML>`, "SyncML"],
    ["no VerDTD", doc("", HDR.replace("<VerDTD>1.2</VerDTD>", "")), "SyncML/SyncHdr"],
    ["no VerProto", doc("", HDR.replace("<VerProto>DM/1.2</VerProto>", "")), "SyncML/SyncHdr"],
    ["no SessionID", doc("", HDR.replace("<SessionID>7</SessionID>", "")), "SyncML/SyncHdr"],
    ["no MsgID", doc("", HDR.replace("<MsgID>2</MsgID>", "")), "SyncML/SyncHdr"],
    [
      "no Target",
      doc("", HDR.replace("<Target><LocURI>dev</LocURI></Target>", "")),
      "SyncML/SyncHdr",
    ],
    [
      "no Source",
      doc("", HDR.replace("<Source><LocURI>srv</LocURI></Source>", "")),
      "SyncML/SyncHdr",
    ],
    [
      "Target without LocURI",
      doc("", HDR.replace("<LocURI>dev</LocURI>", "")),
      "SyncML/SyncHdr/Target",
    ],
    [
      "two MsgIDs",
      doc("", HDR.replace("<MsgID>2</MsgID>", "<MsgID>2</MsgID><MsgID>3</MsgID>")),
      "SyncML/SyncHdr",
    ],
    [
      "Cred without Data",
      doc("", HDR.replace("</SyncHdr>", "<Cred><Meta/></Cred></SyncHdr>")),
      "SyncML/SyncHdr/Cred",
    ],
    [
      "a Status without CmdID, the second one",
      doc(OK_STATUS + status("<MsgRef>1</MsgRef><CmdRef>1</CmdRef><Cmd>Get</Cmd><Data>200</Data>")),
      "SyncML/SyncBody/Status[2]",
    ],
    [
      "a Status for a command without CmdRef",
      doc(status("<CmdID>1</CmdID><MsgRef>1</MsgRef><Cmd>Get</Cmd><Data>200</Data>")),
      "SyncML/SyncBody/Status[1]",
    ],
    [
      "a Status without Data",
      doc(status("<CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>")),
      "SyncML/SyncBody/Status[1]",
    ],
    [
      "a Status without Cmd",
      doc(status("<CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Data>200</Data>")),
      "SyncML/SyncBody/Status[1]",
    ],
    [
      "a Status without MsgRef",
      doc(status("<CmdID>1</CmdID><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data>")),
      "SyncML/SyncBody/Status[1]",
    ],
    [
      "a Status code that is not a number",
      doc(OK_STATUS.replace("200", "OK")),
      "SyncML/SyncBody/Status[1]/Data",
    ],
    [
      "Chal without Meta",
      doc(OK_STATUS.replace("<Data>", "<Chal/><Data>")),
      "SyncML/SyncBody/Status[1]/Chal",
    ],
    ["Add without Item", doc("<Add><CmdID>1</CmdID></Add>"), "SyncML/SyncBody/Add[1]"],
    ["Get without Item", doc("<Get><CmdID>1</CmdID></Get>"), "SyncML/SyncBody/Get[1]"],
    [
      "Results without Item",
      doc("<Results><CmdID>1</CmdID><CmdRef>2</CmdRef></Results>"),
      "SyncML/SyncBody/Results[1]",
    ],
    ["Exec without Item", doc("<Exec><CmdID>1</CmdID></Exec>"), "SyncML/SyncBody/Exec[1]"],
    [
      "Exec with two Items",
      doc("<Exec><CmdID>1</CmdID><Item/><Item/></Exec>"),
      "SyncML/SyncBody/Exec[1]",
    ],
    ["Alert without CmdID", doc("<Alert><Data>1201</Data></Alert>"), "SyncML/SyncBody/Alert[1]"],
    [
      "an Item's Target without LocURI",
      doc("<Replace><CmdID>1</CmdID><Item/><Item><Target/></Item></Replace>"),
      "SyncML/SyncBody/Replace[1]/Item[2]/Target",
    ],
    [
      "a non-numeric MaxMsgSize",
      doc(
        "",
        HDR.replace(
          "</SyncHdr>",
          "<Meta><MaxMsgSize xmlns='syncml:metinf'>big</MaxMsgSize></Meta></SyncHdr>",
        ),
      ),
      "SyncML/SyncHdr/Meta/MaxMsgSize",
    ],
    [
      "an element where text belongs",
      doc("<Alert><CmdID><b>1</b></CmdID></Alert>"),
      "SyncML/SyncBody/Alert[1]/CmdID",
    ],
    ["an unknown command", doc(`${OK_STATUS}<Frobnicate/>`), "SyncML/SyncBody/Frobnicate[1]"],
    [
      "a SyncML DS command DM does not have",
      doc("<Sync><CmdID>1</CmdID></Sync>"),
      "SyncML/SyncBody/Sync[1]",
    ],
    [
      "Status nested in Atomic",
      doc(`<Atomic><CmdID>1</CmdID>${OK_STATUS}</Atomic>`),
      "SyncML/SyncBody/Atomic[1]/Status[1]",
    ],
    [
      "a nested command without CmdID",
      doc(
        "<Sequence><CmdID>1</CmdID><Add><CmdID>2</CmdID><Item/></Add><Add><Item/></Add></Sequence>",
      ),
      "SyncML/SyncBody/Sequence[1]/Add[2]",
    ],
  ];
  for (const [what, xml, path] of cases) {
    test(`${what} → SYNCML_INVALID at ${path}`, () => invalid(xml, path));
  }
});

describe("toMessage: refusals quote the peer's names short", () => {
  test("a command named with half a megabyte: SYNCML_INVALID in a few hundred characters", () => {
    const name = `X${"A".repeat(500_000)}`;
    assert.throws(
      () => read(doc(`<${name}><CmdID>1</CmdID></${name}>`)),
      (e: unknown) => {
        assert.ok(e instanceof ProtocolError, String(e));
        assert.equal(e.code, "SYNCML_INVALID");
        assert.ok(e.message.length < 600, `a message of ${e.message.length} characters`);
        assert.match(
          e.message,
          /^XA+… is not an OMA DM 1\.2 command .*\(at SyncML\/SyncBody\/XA+…\)$/,
        );
        return true;
      },
    );
  });
});

describe("fromMessage: strict DTD order", () => {
  const full = read(
    doc(
      // Written out of order on purpose; the writer must put everything back in DTD order.
      "<Status><Data>401</Data><Item><Data>i</Data></Item><Chal><Meta><NextNonce xmlns='syncml:metinf'>bg==</NextNonce>" +
        "<Format xmlns='syncml:metinf'>b64</Format><Type xmlns='syncml:metinf'>syncml:auth-md5</Type></Meta></Chal>" +
        "<SourceRef>s</SourceRef><TargetRef>t</TargetRef><Cmd>SyncHdr</Cmd><CmdRef>0</CmdRef><MsgRef>1</MsgRef><CmdID>1</CmdID></Status>" +
        "<Results><Item><Data>v</Data><Source><LocURI>./a</LocURI></Source></Item><SourceRef>./a</SourceRef>" +
        "<Meta><Format xmlns='syncml:metinf'>chr</Format></Meta><CmdRef>3</CmdRef><MsgRef>1</MsgRef><CmdID>2</CmdID></Results>" +
        "<Atomic><Meta><Mark xmlns='syncml:metinf'>m</Mark></Meta><NoResp/><CmdID>4</CmdID>" +
        "<Replace><Item><MoreData/><Data>d</Data><Meta><Size xmlns='syncml:metinf'>1</Size><Type xmlns='syncml:metinf'>t</Type></Meta>" +
        "<Target><LocName>n</LocName><LocURI>./b</LocURI></Target></Item><Meta><MaxObjSize xmlns='syncml:metinf'>9</MaxObjSize>" +
        "<Version xmlns='syncml:metinf'>1</Version></Meta><NoResp/><CmdID>5</CmdID></Replace>" +
        "<Alert><Item/><Correlator>c</Correlator><Data>1226</Data><CmdID>6</CmdID></Alert>" +
        "<Exec><Item/><Correlator>c</Correlator><Meta><EMI xmlns='syncml:metinf'>e</EMI></Meta><CmdID>7</CmdID></Exec>" +
        "<Get><Item><Target><LocURI>./c</LocURI></Target></Item><Meta/><Lang>en</Lang><CmdID>8</CmdID></Get>" +
        "</Atomic><Final/>",
      HDR.replace(
        "<VerDTD>1.2</VerDTD>",
        "<Meta><MaxMsgSize xmlns='syncml:metinf'>5000</MaxMsgSize></Meta><Cred><Data>x</Data><Meta><Type xmlns='syncml:metinf'>syncml:auth-basic</Type></Meta></Cred><NoResp/><RespURI>u</RespURI><VerDTD>1.2</VerDTD>",
      ),
    ),
  );

  test("what the writer emits follows the DTD, MetInf content in the metinf namespace", () => {
    assert.deepStrictEqual(dtdViolations(fromMessage(full)), []);
    // The check is of the text on the wire, too.
    assert.deepStrictEqual(dtdViolations(parseXml(messageToXml(full))), []);
    assert.deepStrictEqual(read(messageToXml(full)), full);
  });

  test("the order checker does catch disorder", () => {
    assert.notDeepStrictEqual(
      dtdViolations(
        parseXml(
          doc(OK_STATUS.replace(/<CmdID>1<\/CmdID>(.*)<\/Status>/, "$1<CmdID>1</CmdID></Status>")),
        ),
      ),
      [],
    );
  });

  test("a model the DTD cannot express is refused, not sent", () => {
    const base = read(doc(""));
    const ok = { kind: "Add", cmdId: "1", items: [{}] } as const;
    const refusedAt = (m: SyncMLMessage, path: string) =>
      assert.throws(
        () => fromMessage(m),
        (e: unknown) =>
          e instanceof ProtocolError && e.code === "SYNCML_INVALID" && e.where?.path === path,
      );
    refusedAt(
      {
        ...base,
        body: {
          final: true,
          commands: [
            ok,
            { kind: "Get", cmdId: "2", items: [{}] },
            { kind: "Add", cmdId: "3", items: [] },
          ],
        },
      },
      "SyncML/SyncBody/Add[2]",
    );
    refusedAt(
      {
        ...base,
        body: {
          final: true,
          commands: [
            {
              kind: "Atomic",
              cmdId: "1",
              commands: [ok, { kind: "Results", cmdId: "2", cmdRef: "1", items: [{}] }],
            },
          ],
        },
      },
      "SyncML/SyncBody/Atomic[1]",
    );
    refusedAt(
      {
        ...base,
        body: {
          final: false,
          commands: [
            { kind: "Sequence", cmdId: "1", commands: [ok] },
            {
              kind: "Sequence",
              cmdId: "2",
              commands: [ok, { kind: "Replace", cmdId: "4", items: [] }],
            },
          ],
        },
      },
      "SyncML/SyncBody/Sequence[2]/Replace[1]",
    );
  });
});
