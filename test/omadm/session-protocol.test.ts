import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { makeCred } from "../../src/omadm/auth/cred.js";
import { decodeMessage, encodeMessage, MEDIA_TYPE } from "../../src/omadm/codec.js";
import { ProtocolError } from "../../src/omadm/errors.js";
import type { Command, Status, SyncMLMessage } from "../../src/omadm/model/message.js";
import type { DmTransport } from "../../src/omadm/session/transport.js";
import {
  ClientStore,
  credentials,
  DEV_ID,
  headerStatusOf,
  makeClient,
  makeDevice,
  makeServer,
  ScriptedApp,
  SERVER_URI,
  statusesOf,
} from "./session-harness.js";

function message(
  from: string,
  to: string,
  sessionId: string,
  msgId: number,
  commands: Command[],
  final = true,
  extra: Partial<SyncMLMessage["header"]> = {},
): SyncMLMessage {
  return {
    header: {
      verDTD: "1.2",
      verProto: "DM/1.2",
      sessionId,
      msgId: String(msgId),
      target: { locUri: to },
      source: { locUri: from },
      ...extra,
    },
    body: { commands, final },
  };
}

const status = (
  cmdId: number,
  msgRef: string,
  cmdRef: string,
  cmd: string,
  code: number,
): Status => ({
  kind: "Status",
  cmdId: String(cmdId),
  msgRef,
  cmdRef,
  cmd,
  targetRefs: [],
  sourceRefs: [],
  code,
  items: [],
});

/** A hand-written DM server: each step sees the client's message and writes the answer. */
function fakeServer(
  steps: Array<(m: SyncMLMessage) => Command[] | { commands: Command[]; final: boolean }>,
) {
  const seen: SyncMLMessage[] = [];
  const transport: DmTransport = async (req) => {
    const m = decodeMessage(req.body).message;
    seen.push(m);
    const step = steps[seen.length - 1];
    if (!step) throw new Error("the client sent more than expected");
    const out = step(m);
    const { commands, final } = Array.isArray(out) ? { commands: out, final: true } : out;
    const hdr = status(1, m.header.msgId, "0", "SyncHdr", seen.length === 1 ? 212 : 200);
    const reply = message(
      SERVER_URI,
      DEV_ID,
      m.header.sessionId,
      seen.length,
      [hdr, ...commands],
      final,
    );
    return { body: encodeMessage(reply, "xml"), mediaType: MEDIA_TYPE.xml, headers: {} };
  };
  return { transport, seen };
}

const chunk = (
  cmdId: number,
  uri: string,
  data: string,
  more: boolean,
  size?: number,
): Command => ({
  kind: "Replace",
  cmdId: String(cmdId),
  items: [
    {
      target: { locUri: uri },
      meta: { format: "chr", ...(size !== undefined ? { size } : {}) },
      data,
      ...(more ? { moreData: true } : {}),
    },
  ],
});

describe("large objects received by the client", () => {
  const c = credentials("basic", false);

  test("424 when the reassembled size differs from Meta Size; nothing is committed", async () => {
    const tree = makeDevice(c);
    tree.setLeaf("./Vendor/Obj", "old", { format: "chr" });
    const server = fakeServer([
      () => ({ commands: [chunk(2, "./Vendor/Obj", "x".repeat(50), true, 100)], final: false }),
      () => [chunk(2, "./Vendor/Obj", "y".repeat(10), false)],
      () => [],
    ]);
    const result = await makeClient(tree, server.transport).start();
    assert.equal(result.outcome, "completed");
    const [, second, third] = server.seen;
    assert.equal(statusesOf(second!).find((s) => s.cmd === "Replace")?.code, 213);
    assert.ok(second!.body.commands.some((x) => x.kind === "Alert" && x.data === "1222"));
    assert.equal(statusesOf(third!).find((s) => s.cmd === "Replace")?.code, 424);
    assert.equal(tree.read("./Vendor/Obj"), "old");
  });

  test("Alert 1225 when the next message does not continue the object", async () => {
    const tree = makeDevice(c);
    tree.setLeaf("./Vendor/Obj", "old", { format: "chr" });
    const server = fakeServer([
      () => ({ commands: [chunk(2, "./Vendor/Obj", "x".repeat(50), true, 100)], final: false }),
      () => [chunk(2, "./Vendor/Other", "new", false)],
      () => [],
    ]);
    const result = await makeClient(tree, server.transport).start();
    assert.equal(result.outcome, "completed");
    const third = server.seen[2]!;
    const alert = third.body.commands.find((x) => x.kind === "Alert" && x.data === "1225");
    assert.ok(alert, "Alert 1225 sent");
    assert.equal(alert.kind === "Alert" && alert.items[0]?.target?.locUri, "./Vendor/Obj");
    assert.equal(tree.read("./Vendor/Obj"), "old");
    // The new command was still processed (404: no such node to replace).
    assert.equal(statusesOf(third).find((s) => s.cmd === "Replace")?.code, 404);
  });

  test("413 for an object whose Meta Size passes the client's MaxObjSize", async () => {
    const tree = makeDevice(c);
    const server = fakeServer([
      () => [chunk(2, "./Vendor/Obj", "x".repeat(50), true, 5000)],
      () => [],
    ]);
    await makeClient(tree, server.transport, { maxObjSize: 1000 }).start();
    assert.equal(statusesOf(server.seen[1]!).find((s) => s.cmd === "Replace")?.code, 413);
  });
});

/** Drives the real server with hand-written client messages, authenticated with basic. */
function rawClient(script: Array<Parameters<typeof message>[4]>) {
  const c = credentials("basic", false);
  const app = new ScriptedApp(
    new ClientStore(c),
    script.map(() => []),
  );
  let now = 1_000_000;
  const server = makeServer(app, { now: () => now, sessionTtlMs: 60_000 });
  const cred = makeCred("basic", {
    name: c.clientName,
    secret: c.clientSecret,
    nonce: new Uint8Array(0),
  });
  let msgId = 0;
  const send = async (commands: Command[], final = true, sessionId = "9") => {
    const m = message(
      DEV_ID,
      SERVER_URI,
      sessionId,
      ++msgId,
      commands,
      final,
      msgId === 1 ? { cred } : {},
    );
    const body = encodeMessage(m, "xml");
    return { reply: await server.handleBody(body), body };
  };
  return { app, server, send, advance: (ms: number) => (now += ms) };
}

const alert = (
  cmdId: number,
  code: string,
  extra: Partial<Extract<Command, { kind: "Alert" }>> = {},
): Command => ({
  kind: "Alert",
  cmdId: String(cmdId),
  data: code,
  items: [],
  ...extra,
});

describe("the server engine, message by message", () => {
  test("a package 1 split over two messages gets the Next Message response, then Package 2", async () => {
    const { send } = rawClient([[]]);
    const first = await send([alert(1, "1201")], false);
    assert.equal(headerStatusOf(first.reply.message)?.code, 212);
    assert.equal(first.reply.message.body.final, false);
    assert.ok(
      first.reply.message.body.commands.some((x) => x.kind === "Alert" && x.data === "1222"),
    );
    const second = await send([
      { kind: "Replace", cmdId: "1", items: [{ source: { locUri: "./DevInfo/Mod" }, data: "M" }] },
    ]);
    assert.equal(second.reply.message.body.final, true);
    assert.equal(second.reply.ended, true);
  });

  test("424 for a chunked Generic Alert whose size is wrong, 1225 for one left unfinished", async () => {
    const { send, app } = rawClient([[]]);
    await send([alert(1, "1201")], false);
    const item = (data: string, more: boolean, size?: number) => ({
      source: { locUri: "./Vendor/Report" },
      meta: { format: "chr", type: "x-report", ...(size !== undefined ? { size } : {}) },
      data,
      ...(more ? { moreData: true } : {}),
    });
    const a = await send([alert(1, "1226", { items: [item("x".repeat(40), true, 100)] })], false);
    assert.equal(statusesOf(a.reply.message).find((s) => s.cmd === "Alert")?.code, 213);
    const b = await send([alert(1, "1226", { items: [item("y".repeat(20), false)] })], false);
    assert.equal(statusesOf(b.reply.message).find((s) => s.cmd === "Alert")?.code, 424);
    const c = await send([alert(1, "1226", { items: [item("z".repeat(40), true, 80)] })], false);
    assert.equal(statusesOf(c.reply.message).find((s) => s.cmd === "Alert")?.code, 213);
    const d = await send([alert(1, "1224", { items: [{ data: "event" }] })]);
    const abandoned = d.reply.message.body.commands.find(
      (x) => x.kind === "Alert" && x.data === "1225",
    );
    assert.ok(abandoned);
    assert.equal(
      abandoned.kind === "Alert" && abandoned.items[0]?.source?.locUri,
      "./Vendor/Report",
    );
    assert.deepEqual(
      app.alerts.map((x) => x.code),
      [1224],
    );
  });

  test("a retransmitted message gets the same answer and is processed once", async () => {
    const { server, send, app } = rawClient([[]]);
    const { reply, body } = await send(
      [alert(1, "1201"), alert(2, "1226", { items: [{ data: "once" }] })],
      false,
    );
    const again = await server.handleBody(body);
    assert.deepEqual(again.body, reply.body);
    assert.equal(app.alerts.length, 1);
  });

  test("a message for no session, or with an old MsgID, is a SESSION_INVALID ProtocolError", async () => {
    const { send } = rawClient([[]]);
    await assert.rejects(
      send([status(1, "1", "0", "SyncHdr", 200)], true, "404"),
      (e: unknown) => e instanceof ProtocolError && e.code === "SESSION_INVALID",
    );
  });

  test("an idle session expires", async () => {
    const { send, advance, server, app } = rawClient([[]]);
    await send([alert(1, "1201")], false);
    assert.equal(server.sessionCount, 1);
    advance(61_000);
    await assert.rejects(send([alert(1, "1222")], false), ProtocolError);
    assert.equal(server.sessionCount, 0);
    assert.deepEqual(app.outcomes, ["expired"]);
  });

  test("an idle session is ended by expireIdle without another message", async () => {
    const { send, advance, server, app } = rawClient([[]]);
    await send([alert(1, "1201")], false);
    server.expireIdle();
    assert.equal(server.sessionCount, 1);
    advance(61_000);
    server.expireIdle();
    assert.equal(server.sessionCount, 0);
    assert.deepEqual(app.outcomes, ["expired"]);
  });

  test("Alert 1223 from the client: Status for it and the header, Final, session over", async () => {
    const { send, app, server } = rawClient([[]]);
    const r = await send([alert(1, "1201"), alert(2, "1223")]);
    assert.equal(r.reply.ended, true);
    assert.ok(r.reply.message.body.final);
    assert.deepEqual(
      statusesOf(r.reply.message).map((s) => [s.cmd, s.code]),
      [
        ["SyncHdr", 212],
        ["Alert", 200],
        ["Alert", 200],
      ],
    );
    assert.equal(r.reply.message.body.commands.length, 3);
    assert.deepEqual(app.outcomes, ["aborted-by-peer"]);
    assert.equal(server.sessionCount, 0);
  });

  test("a client may only send DevInfo Replace, Alert, Status and Results: others get 405", async () => {
    const { send } = rawClient([[]]);
    const r = await send([
      alert(1, "1201"),
      { kind: "Add", cmdId: "2", items: [{ target: { locUri: "./X" }, data: "x" }] },
      { kind: "Replace", cmdId: "3", items: [{ target: { locUri: "./Vendor/X" }, data: "x" }] },
    ]);
    assert.deepEqual(
      statusesOf(r.reply.message).map((s) => s.code),
      [212, 200, 405, 405],
    );
  });
});

describe("client session set-up", () => {
  test("a server-initiated session reuses the notification's SessionID and sends Alert 1200", async () => {
    const c = credentials("basic", false);
    const tree = makeDevice(c);
    const server = fakeServer([() => []]);
    const result = await makeClient(tree, server.transport).start({
      kind: "server-initiated",
      sessionId: "4711",
    });
    assert.equal(result.outcome, "completed");
    assert.equal(result.sessionId, "4711");
    const pkg1 = server.seen[0]!;
    assert.equal(pkg1.header.sessionId, "4711");
    assert.deepEqual(
      pkg1.body.commands.map((x) => (x.kind === "Alert" ? `Alert ${x.data}` : x.kind)),
      ["Alert 1200", "Replace"],
    );
    assert.equal(pkg1.header.source.locUri, DEV_ID);
    assert.equal(pkg1.header.meta?.maxMsgSize, 16 * 1024);
  });

  test("a reply for another session is a SESSION_INVALID ProtocolError", async () => {
    const c = credentials("basic", false);
    const tree = makeDevice(c);
    const transport: DmTransport = async (req) => {
      const m = decodeMessage(req.body).message;
      const reply = message(SERVER_URI, DEV_ID, `${m.header.sessionId}0`, 1, [
        status(1, "1", "0", "SyncHdr", 212),
      ]);
      return { body: encodeMessage(reply, "xml"), mediaType: MEDIA_TYPE.xml, headers: {} };
    };
    await assert.rejects(
      makeClient(tree, transport).start(),
      (e: unknown) => e instanceof ProtocolError && e.code === "SESSION_INVALID",
    );
  });

  test("an application callback that throws ends the server session with 'error'", async () => {
    const { app, send, server } = rawClient([[]]);
    app.onStart = () => {
      throw new Error("database down");
    };
    await assert.rejects(send([alert(1, "1201")]), /database down/);
    assert.deepEqual(app.outcomes, ["error"]);
    assert.equal(server.sessionCount, 0);
  });
});
