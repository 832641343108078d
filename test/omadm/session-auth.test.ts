import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { makeChal, makeCred } from "../../src/omadm/auth/cred.js";
import type { AuthScheme } from "../../src/omadm/auth/schemes.js";
import { encodeMessage } from "../../src/omadm/codec.js";
import type { SyncMLMessage } from "../../src/omadm/model/message.js";
import type { DmTransport } from "../../src/omadm/session/transport.js";
import type { OutCommand } from "../../src/omadm/session/types.js";
import {
  accountOf,
  ClientStore,
  credentials,
  DEV_ID,
  headerStatusOf,
  INITIAL_NONCE,
  makeClient,
  makeDevice,
  makeServer,
  memoryTransport,
  ScriptedApp,
  SERVER_URI,
  statusesOf,
} from "./session-harness.js";

const addVendor = (value: string, node = "Flag"): OutCommand => ({
  kind: "Add",
  items: [{ target: { locUri: `./Vendor/${node}` }, meta: { format: "chr" }, data: value }],
});

const CHAL_TYPE: Record<AuthScheme, string> = {
  basic: "syncml:auth-basic",
  md5: "syncml:auth-md5",
  hmac: "syncml:auth-MAC",
};

for (const scheme of ["basic", "md5", "hmac"] as const) {
  describe(`${scheme} authentication`, () => {
    test("pre-configured credentials are accepted at once: 212 for the session, or 200 per HMAC message", async () => {
      const c = credentials(scheme);
      const tree = makeDevice(c);
      const app = new ScriptedApp(new ClientStore(c), [[addVendor("1")]]);
      const wire = memoryTransport(makeServer(app));
      const result = await makeClient(tree, wire.transport).start();
      assert.equal(result.outcome, "completed");
      assert.equal(tree.read("./Vendor/Flag"), "1");
      const server = wire.log.filter((e) => e.from === "server");
      const client = wire.log.filter((e) => e.from === "client");
      if (scheme === "hmac") {
        for (const e of server) assert.equal(headerStatusOf(e.message)?.code, 200);
        for (const e of [...server, ...client])
          assert.match(e.headers["x-syncml-hmac"] ?? "", /^algorithm=MD5, username="/);
        assert.equal(client[0]!.message.header.cred, undefined, "HMAC never travels in Cred");
      } else {
        assert.equal(headerStatusOf(server[0]!.message)?.code, 212);
        assert.equal(headerStatusOf(server[1]!.message)?.code, 200);
        assert.equal(client[1]!.message.header.cred, undefined, "no Cred after 212");
        // The server proved itself too: the client's Status for its header is 212.
        assert.equal(headerStatusOf(client[1]!.message)?.code, 212);
      }
      assert.deepEqual(app.outcomes, ["completed"]);
    });

    test("missing credentials: 407 with a Chal naming the scheme, then accepted", async () => {
      const c = credentials(scheme);
      const tree = makeDevice(c);
      const app = new ScriptedApp(new ClientStore(c), [[addVendor("2")]]);
      const wire = memoryTransport(makeServer(app));
      const result = await makeClient(tree, wire.transport, { preemptiveAuth: false }).start();
      assert.equal(result.outcome, "completed");
      const first = headerStatusOf(wire.log[1]!.message)!;
      assert.equal(first.code, 407);
      assert.equal(first.chal?.meta.type, CHAL_TYPE[scheme]);
      assert.equal(first.chal?.meta.nextNonce !== undefined, scheme !== "basic");
      // §2.4.1: only Status commands, one for every command received (Alert and Replace).
      assert.deepEqual(
        wire.log[1]!.message.body.commands.map((c) => c.kind),
        ["Status", "Status", "Status"],
      );
      // The client went back to Package 1: Alert and DevInfo again, same SessionID.
      const retry = wire.log[2]!.message;
      assert.equal(retry.header.sessionId, wire.log[0]!.message.header.sessionId);
      assert.deepEqual(
        retry.body.commands.map((c) => c.kind),
        ["Status", "Alert", "Replace"],
      );
      assert.equal(tree.read("./Vendor/Flag"), "2");
    });

    test("a wrong secret: 401, one more challenge, then the server gives up", async () => {
      const c = credentials(scheme);
      const tree = makeDevice({ ...c, clientSecret: "not-the-secret" });
      const app = new ScriptedApp(new ClientStore(c), [[addVendor("3")]]);
      const server = makeServer(app);
      const wire = memoryTransport(server);
      const result = await makeClient(tree, wire.transport).start();
      assert.equal(result.outcome, "auth-failed");
      const codes = wire.log
        .filter((e) => e.from === "server")
        .map((e) => headerStatusOf(e.message)?.code);
      assert.deepEqual(codes, [401, 401]);
      const last = headerStatusOf(wire.log.at(-1)!.message)!;
      assert.equal(last.chal, undefined, "no further challenge");
      assert.equal(tree.exists("./Vendor/Flag"), false);
      assert.deepEqual(app.outcomes, ["auth-failed"]);
      assert.equal(server.sessionCount, 0);
    });
  });
}

for (const scheme of ["md5", "hmac"] as const) {
  describe(`${scheme} nonces`, () => {
    test("a stale nonce gets 401 with a new nonce, and the retry succeeds", async () => {
      const c = credentials(scheme);
      const tree = makeDevice(c, SERVER_URI, { client: new Uint8Array([9, 9, 9]) });
      const app = new ScriptedApp(new ClientStore(c), [[addVendor("4")]]);
      const wire = memoryTransport(makeServer(app));
      const result = await makeClient(tree, wire.transport).start();
      assert.equal(result.outcome, "completed");
      const first = headerStatusOf(wire.log[1]!.message)!;
      assert.equal(first.code, 401);
      assert.ok(first.chal?.meta.nextNonce);
      assert.equal(tree.read("./Vendor/Flag"), "4");
    });

    test("nonces rotate both ways and are persisted: the next session needs no challenge", async () => {
      const c = credentials(scheme);
      const tree = makeDevice(c);
      const store = new ClientStore(c);
      const app = new ScriptedApp(store, [[addVendor("5")], [], [addVendor("6")]]);
      const server = makeServer(app);
      const wire = memoryTransport(server);
      assert.equal((await makeClient(tree, wire.transport).start()).outcome, "completed");
      const account = accountOf(tree);
      assert.notDeepEqual(account.client.nonce, INITIAL_NONCE);
      assert.notDeepEqual(account.server.nonce, INITIAL_NONCE);
      assert.deepEqual(account.client.nonce, store.record.client.nonce);
      assert.deepEqual(account.server.nonce, store.record.server?.nonce);
      assert.ok(store.saved.some((s) => s.role === "client"));
      assert.ok(store.saved.some((s) => s.role === "server"));

      const wire2 = memoryTransport(server);
      app.packages = 0;
      app.script.splice(0, 3, [addVendor("7", "Flag2")]);
      assert.equal((await makeClient(tree, wire2.transport).start()).outcome, "completed");
      assert.equal(headerStatusOf(wire2.log[1]!.message)?.code, scheme === "md5" ? 212 : 200);
      assert.equal(tree.read("./Vendor/Flag2"), "7");
    });
  });
}

describe("the server authenticates to the client", () => {
  for (const scheme of ["basic", "md5", "hmac"] as const) {
    test(`${scheme}: an impostor server is refused, its commands are not run, its nonce is not kept`, async () => {
      const c = credentials(scheme);
      const tree = makeDevice(c);
      const before = accountOf(tree);
      const store = new ClientStore({ ...c, serverSecret: "impostor" });
      const app = new ScriptedApp(store, [[addVendor("8")], [addVendor("9")]]);
      const wire = memoryTransport(makeServer(app));
      const result = await makeClient(tree, wire.transport).start();
      assert.equal(result.outcome, "auth-failed");
      assert.equal(tree.exists("./Vendor/Flag"), false);
      const client = wire.log.filter((e) => e.from === "client");
      const refusal = headerStatusOf(client[1]!.message)!;
      assert.equal(refusal.code, 401);
      assert.equal(refusal.chal?.meta.type, CHAL_TYPE[scheme]);
      assert.ok(
        statusesOf(client[1]!.message)
          .filter((s) => s.cmd === "Add")
          .every((s) => s.code === 401),
      );
      // The client ended the session with Alert 1223 after the second failure.
      const last = client.at(-1)!.message;
      assert.ok(last.body.commands.some((x) => x.kind === "Alert" && x.data === "1223"));
      if (scheme !== "basic") {
        // The impostor's NextNonce for the client was used but never stored (Security §5.1.3.4).
        assert.deepEqual(accountOf(tree).client.nonce, before.client.nonce);
      }
    });
  }

  test("a server that waits to be challenged resends its commands with credentials", async () => {
    const c = credentials("md5");
    const tree = makeDevice(c);
    const cmd = addVendor("10");
    const app = new ScriptedApp(new ClientStore(c), [[cmd]]);
    const wire = memoryTransport(makeServer(app, { serverCredentials: "challenged" }));
    const result = await makeClient(tree, wire.transport).start();
    assert.equal(result.outcome, "completed");
    const server = wire.log.filter((e) => e.from === "server");
    assert.equal(server[0]!.message.header.cred, undefined);
    assert.ok(server[1]!.message.header.cred, "credentials after the challenge");
    const client = wire.log.filter((e) => e.from === "client");
    assert.equal(headerStatusOf(client[1]!.message)?.code, 407);
    assert.equal(headerStatusOf(client[2]!.message)?.code, 212);
    assert.equal(tree.read("./Vendor/Flag"), "10");
    assert.equal(app.responses.filter((r) => r.command === cmd).length, 1);
    assert.equal(app.responseTo(cmd)?.code, 200);
  });

  test("the server does not store a nonce offered by an unauthenticated client", async () => {
    const c = credentials("md5");
    const store = new ClientStore(c);
    const app = new ScriptedApp(store);
    const server = makeServer(app);
    const forged: SyncMLMessage = {
      header: {
        verDTD: "1.2",
        verProto: "DM/1.2",
        sessionId: "77",
        msgId: "1",
        target: { locUri: SERVER_URI },
        source: { locUri: DEV_ID, locName: c.clientName },
        cred: makeCred("md5", { name: c.clientName, secret: "guess", nonce: INITIAL_NONCE }),
      },
      body: {
        final: true,
        commands: [
          { kind: "Alert", cmdId: "1", data: "1201", items: [] },
          {
            kind: "Status",
            cmdId: "2",
            msgRef: "1",
            cmdRef: "0",
            cmd: "SyncHdr",
            targetRefs: [],
            sourceRefs: [],
            chal: makeChal("md5", new Uint8Array([6, 6, 6])),
            code: 401,
            items: [],
          },
        ],
      },
    };
    const reply = await server.handle(forged, {
      encoding: "xml",
      rawBody: encodeMessage(forged, "xml"),
    });
    assert.equal(headerStatusOf(reply.message)?.code, 401);
    assert.equal(store.saved.filter((s) => s.role === "server").length, 0);
    assert.deepEqual(store.record.server?.nonce, INITIAL_NONCE);
  });
});

describe("HMAC integrity", () => {
  test("a body changed after signing is refused with 401 and a fresh nonce", async () => {
    const c = credentials("hmac");
    const tree = makeDevice(c);
    const app = new ScriptedApp(new ClientStore(c), [[addVendor("11")]]);
    let tampered = false;
    const wire = memoryTransport(makeServer(app), (body, from) => {
      if (from !== "client" || tampered) return body;
      tampered = true;
      const text = new TextDecoder().decode(body).replace("SmartPhone2000", "SmartPhone2001");
      return new TextEncoder().encode(text);
    });
    const result = await makeClient(tree, wire.transport).start();
    assert.equal(result.outcome, "completed");
    const first = headerStatusOf(wire.log[1]!.message)!;
    assert.equal(first.code, 401);
    assert.equal(first.chal?.meta.type, "syncml:auth-MAC");
    assert.equal(app.devInfo?.get("./DevInfo/Mod"), "SmartPhone2000");
  });

  test("a message of an HMAC session without the header gets 407", async () => {
    const c = credentials("hmac");
    const tree = makeDevice(c);
    const app = new ScriptedApp(new ClientStore(c), [[addVendor("12")]]);
    const server = makeServer(app);
    const codes: Array<number | undefined> = [];
    let sent = 0;
    const transport: DmTransport = async (req) => {
      sent++;
      const headers = sent === 2 ? {} : req.headers;
      const reply = await server.handleBody(req.body, headers["x-syncml-hmac"]);
      codes.push(headerStatusOf(reply.message)?.code);
      return { body: reply.body, mediaType: reply.mediaType, headers: reply.headers };
    };
    await makeClient(tree, transport).start();
    assert.equal(codes[0], 200);
    assert.equal(codes[1], 407);
  });
});
