import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Command, Item, SyncMLMessage } from "../../src/omadm/model/message.js";
import { dataSize, ObjectAssembler, splitData } from "../../src/omadm/session/large-object.js";
import type { OutCommand } from "../../src/omadm/session/types.js";
import {
  ClientStore,
  credentials,
  ENCODINGS,
  makeClient,
  makeDevice,
  makeServer,
  memoryTransport,
  ScriptedApp,
  statusesOf,
} from "./session-harness.js";

const hasAlert = (m: SyncMLMessage, code: string) =>
  m.body.commands.some((c) => c.kind === "Alert" && c.data === code);

function itemsOf(c: Command): readonly Item[] {
  return "items" in c ? c.items : [];
}

const big = (n: number) =>
  Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join("");

/** Text no string table can shorten: a different pseudo-random letter sequence per seed. */
function noise(n: number, seed: number): string {
  let x = seed * 2654435761 + 1;
  let out = "";
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out += String.fromCharCode(97 + ((x >>> 16) % 26));
  }
  return out;
}

for (const encoding of ENCODINGS) {
  describe(`multiple messages in one package (${encoding})`, () => {
    test("server to client: the package spans messages, the client asks with 1222", async () => {
      const c = credentials("md5");
      const tree = makeDevice(c);
      const adds: OutCommand[] = Array.from({ length: 40 }, (_, i) => ({
        kind: "Add",
        items: [
          {
            target: { locUri: `./Vendor/N${i}` },
            meta: { format: "chr" },
            data: `value-${i}-${noise(40, i)}`,
          },
        ],
      }));
      const app = new ScriptedApp(new ClientStore(c), [adds]);
      const wire = memoryTransport(makeServer(app));
      const result = await makeClient(tree, wire.transport, { encoding, maxMsgSize: 1800 }).start();
      assert.equal(result.outcome, "completed");
      const server = wire.log.filter((e) => e.from === "server");
      assert.ok(server.length >= 4, `package split into ${server.length} messages`);
      for (const e of server) assert.ok(e.bytes <= 1800, `message of ${e.bytes} bytes`);
      const pkg2 = server.slice(0, -1);
      assert.ok(pkg2.slice(0, -1).every((e) => !e.message.body.final));
      assert.ok(pkg2.at(-1)!.message.body.final);
      const client = wire.log.filter((e) => e.from === "client");
      for (const e of client.slice(1, pkg2.length)) {
        assert.ok(hasAlert(e.message, "1222"), "client asks for the next message");
        assert.equal(e.message.body.final, false);
      }
      for (let i = 0; i < 40; i++) assert.equal(app.responseTo(adds[i]!)?.code, 200);
      assert.equal(tree.read("./Vendor/N39"), `value-39-${noise(40, 39)}`);
    });

    test("client to server: Results span messages, the server answers with Next Message (1222)", async () => {
      const c = credentials("md5");
      const tree = makeDevice(c);
      for (let i = 0; i < 12; i++) tree.setLeaf(`./Vendor/R${i}`, noise(300, i), { format: "chr" });
      const gets: OutCommand[] = Array.from({ length: 12 }, (_, i) => ({
        kind: "Get",
        items: [{ target: { locUri: `./Vendor/R${i}` } }],
      }));
      const app = new ScriptedApp(new ClientStore(c), [gets]);
      const wire = memoryTransport(makeServer(app, { maxMsgSize: 2000 }));
      const result = await makeClient(tree, wire.transport, { encoding }).start();
      assert.equal(result.outcome, "completed");
      const client = wire.log.filter((e) => e.from === "client");
      assert.ok(client.length >= 4, `${client.length} client messages`);
      for (const e of client) assert.ok(e.bytes <= 2000, `message of ${e.bytes} bytes`);
      const server = wire.log.filter((e) => e.from === "server");
      // Every server answer to a non-final client message is the "Next Message" response.
      for (let i = 1; i < client.length; i++) {
        if (client[i]!.message.body.final) continue;
        const answer = server[i]!.message;
        assert.ok(hasAlert(answer, "1222"));
        assert.equal(answer.body.final, false);
        assert.ok(answer.body.commands.every((x) => x.kind === "Status" || x.kind === "Alert"));
      }
      for (const [i, g] of gets.entries()) {
        assert.equal(app.responseTo(g)?.results[0]?.items[0]?.data, noise(300, i));
      }
    });
  });

  describe(`large objects (${encoding})`, () => {
    test("server to client: chunks with MoreData, Size on the first only, 213 for each", async () => {
      const c = credentials("md5");
      const tree = makeDevice(c);
      const text = noise(20_000, 7);
      const bytes = new Uint8Array(9_000).map((_, i) => (i * 7) & 0xff);
      const add: OutCommand = {
        kind: "Add",
        items: [{ target: { locUri: "./Vendor/Big" }, meta: { format: "chr" }, data: text }],
      };
      const bin: OutCommand = {
        kind: "Add",
        // Bytes travel as opaque data in WBXML (Format bin) and as base64 text in XML (Format b64).
        items: [
          {
            target: { locUri: "./Vendor/Bin" },
            meta: { format: encoding === "xml" ? "b64" : "bin" },
            data: bytes,
          },
        ],
      };
      const app = new ScriptedApp(new ClientStore(c), [[add, bin]]);
      const wire = memoryTransport(makeServer(app));
      const result = await makeClient(tree, wire.transport, { encoding, maxMsgSize: 4096 }).start();
      assert.equal(result.outcome, "completed");
      assert.equal(app.responseTo(add)?.code, 200);
      assert.equal(app.responseTo(bin)?.code, 200);
      assert.equal(tree.read("./Vendor/Big"), text);
      const stored = tree.read("./Vendor/Bin");
      const storedBytes =
        typeof stored === "string" ? Buffer.from(stored, "base64") : Buffer.from(stored!);
      assert.deepEqual(new Uint8Array(storedBytes), bytes);

      const chunks = wire.log
        .filter((e) => e.from === "server")
        .flatMap((e) => e.message.body.commands.filter((x) => x.kind === "Add"))
        .flatMap(itemsOf)
        .filter((i) => i.target?.locUri === "./Vendor/Big");
      assert.ok(chunks.length >= 5, `${chunks.length} chunks`);
      assert.equal(chunks[0]!.meta?.size, 20_000);
      assert.ok(chunks.slice(1).every((i) => i.meta?.size === undefined));
      assert.ok(chunks.slice(0, -1).every((i) => i.moreData));
      assert.ok(!chunks.at(-1)!.moreData);
      const acks = wire.log
        .filter((e) => e.from === "client")
        .flatMap((e) => statusesOf(e.message))
        .filter((s) => s.code === 213);
      assert.ok(acks.length >= chunks.length - 1);
      for (const e of wire.log) assert.ok(e.from === "client" || e.bytes <= 4096);
    });

    test("client to server: a large Get result is chunked and reassembled", async () => {
      const c = credentials("md5");
      const tree = makeDevice(c);
      const value = noise(15_000, 3);
      tree.setLeaf("./Vendor/Log", value, { format: "chr" });
      const get: OutCommand = { kind: "Get", items: [{ target: { locUri: "./Vendor/Log" } }] };
      const app = new ScriptedApp(new ClientStore(c), [[get]]);
      const wire = memoryTransport(makeServer(app, { maxMsgSize: 3000 }));
      const result = await makeClient(tree, wire.transport, { encoding }).start();
      assert.equal(result.outcome, "completed");
      assert.equal(app.responseTo(get)?.code, 200);
      assert.equal(app.responseTo(get)?.results[0]?.items[0]?.data, value);
      const server213 = wire.log
        .filter((e) => e.from === "server")
        .flatMap((e) => statusesOf(e.message))
        .filter((s) => s.code === 213 && s.cmd === "Results");
      assert.ok(server213.length >= 4);
    });
  });
}

describe("MaxObjSize", () => {
  test("an object larger than the client's MaxObjSize is not sent: 413 to the application", async () => {
    const c = credentials("md5");
    const tree = makeDevice(c);
    const add: OutCommand = {
      kind: "Add",
      items: [{ target: { locUri: "./Vendor/Big" }, meta: { format: "chr" }, data: big(5000) }],
    };
    const small: OutCommand = {
      kind: "Add",
      items: [{ target: { locUri: "./Vendor/S" }, data: "s" }],
    };
    const app = new ScriptedApp(new ClientStore(c), [[add, small]]);
    const wire = memoryTransport(makeServer(app));
    const result = await makeClient(tree, wire.transport, { maxObjSize: 1000 }).start();
    assert.equal(result.outcome, "completed");
    assert.equal(app.responseTo(add)?.code, 413);
    assert.equal(app.responseTo(small)?.code, 200);
    assert.equal(tree.exists("./Vendor/Big"), false);
  });
});

describe("large-object helpers", () => {
  test("sizes count octets; b64 text counts what it decodes to", () => {
    assert.equal(dataSize("héllo", "chr"), 6);
    assert.equal(dataSize(new Uint8Array(7), "bin"), 7);
    assert.equal(dataSize(Buffer.from("abcdefg").toString("base64"), "b64"), 7);
  });

  test("splits keep each piece decodable", () => {
    const [a, b] = splitData("😀😀😀", "chr", 5);
    assert.equal(a, "😀");
    assert.equal(b, "😀😀");
    const bytes = new Uint8Array(10).map((_, i) => i);
    const [x, y] = splitData(bytes, "bin", 5);
    assert.equal((x as Uint8Array).length, 3);
    assert.equal((y as Uint8Array).length, 7);
    const b64 = Buffer.from(bytes).toString("base64");
    const [p, q] = splitData(b64, "b64", 4);
    assert.equal(p, b64.slice(0, 4));
    assert.deepEqual(Buffer.from(`${p}${q}`, "base64"), Buffer.from(bytes));
  });

  test("the assembler checks continuity and size", () => {
    const asm = new ObjectAssembler(1000);
    const chunk = (
      id: string,
      uri: string,
      data: string,
      more: boolean,
      size?: number,
    ): Command => ({
      kind: "Replace",
      cmdId: id,
      items: [
        {
          target: { locUri: uri },
          ...(size ? { meta: { size } } : {}),
          data,
          ...(more ? { moreData: true } : {}),
        },
      ],
    });
    assert.equal(asm.feed(chunk("1", "./A", "ab", true, 4)).kind, "chunk");
    assert.equal(asm.continues(chunk("2", "./B", "cd", false)), false);
    const done = asm.feed(chunk("3", "./A", "cd", false));
    assert.equal(done.kind, "complete");
    if (done.kind === "complete") {
      assert.equal(done.sizeMismatch, false);
      assert.equal(itemsOf(done.command)[0]?.data, "abcd");
      assert.equal(done.command.cmdId, "3");
    }
    assert.equal(asm.feed(chunk("4", "./A", "x", true, 5000)).kind, "too-large");
  });
});
