import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createDmHttpHandler, DmHttpError, fetchTransport } from "../../src/omadm/http/index.js";
import type { OutCommand } from "../../src/omadm/session/types.js";
import {
  ClientStore,
  credentials,
  ENCODINGS,
  makeClient,
  makeDevice,
  makeServer,
  ScriptedApp,
} from "./session-harness.js";

async function listen(
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/dm` };
}

/** Text no string table can shorten. */
function noise(n: number, seed: number): string {
  let x = seed + 1;
  let out = "";
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out += String.fromCharCode(97 + ((x >>> 16) % 26));
  }
  return out;
}

describe("full sessions over HTTP on loopback: every scheme with its challenge, both encodings", () => {
  let http: Server;
  let url = "";
  let engine: ReturnType<typeof makeServer>;
  let app: ScriptedApp;
  before(async () => {
    app = new ScriptedApp(new ClientStore(credentials("md5")));
    engine = makeServer(app, { maxMsgSize: 4096 });
    const l = await listen(createDmHttpHandler(engine));
    http = l.server;
    url = l.url;
  });
  after(() => {
    http.closeAllConnections();
    return new Promise<void>((resolve) => http.close(() => resolve()));
  });

  for (const scheme of ["basic", "md5", "hmac"] as const) {
    for (const encoding of ENCODINGS) {
      test(`${scheme} in ${encoding}`, async () => {
        const c = credentials(scheme);
        app.store.record = new ClientStore(c).record;
        const tree = makeDevice(c, url);
        tree.setLeaf("./Vendor/Run", "", { format: "chr", acl: "Exec=dmguard-carrier" });
        tree.registerExec("./Vendor/Run", () => 200);
        tree.setLeaf("./Vendor/Log", noise(9000, 1), { format: "chr" });
        const t = (uri: string, data?: string) => ({
          target: { locUri: uri },
          ...(data !== undefined ? { meta: { format: "chr" }, data } : {}),
        });
        const pkg2: OutCommand[] = [
          { kind: "Alert", data: "1100", items: [{}, { data: "Provisioning" }] },
          { kind: "Add", items: [t("./Vendor/A", "a")] },
          { kind: "Replace", items: [t("./Vendor/A", "b")] },
          {
            kind: "Copy",
            items: [{ target: { locUri: "./Vendor/B" }, source: { locUri: "./Vendor/A" } }],
          },
          { kind: "Get", items: [t("./Vendor/B")] },
          { kind: "Exec", item: t("./Vendor/Run") },
          { kind: "Sequence", commands: [{ kind: "Delete", items: [t("./Vendor/A")] }] },
          { kind: "Atomic", commands: [{ kind: "Add", items: [t("./Vendor/T", "t")] }] },
          { kind: "Add", items: [t("./Vendor/Large", noise(12_000, 2))] },
        ];
        const pkg4: OutCommand[] = [
          { kind: "Get", items: [t("./Vendor/Log")] },
          ...Array.from(
            { length: 30 },
            (_, i): OutCommand => ({ kind: "Add", items: [t(`./Vendor/M${i}`, noise(200, i))] }),
          ),
        ];
        app.script.splice(0, app.script.length, pkg2, pkg4);
        app.packages = 0;
        app.responses.length = 0;
        const client = makeClient(tree, fetchTransport(), {
          encoding,
          preemptiveAuth: false,
          maxMsgSize: 4096,
        });
        const result = await client.start();
        assert.equal(result.outcome, "completed");
        for (const r of app.responses)
          assert.ok(r.code === 200, `${r.command.kind} answered ${r.code}`);
        assert.equal(app.responses.length, pkg2.length + pkg4.length + 2);
        assert.equal(tree.read("./Vendor/Large"), noise(12_000, 2));
        assert.equal(tree.read("./Vendor/M29"), noise(200, 29));
        assert.equal(tree.read("./Vendor/T"), "t");
        assert.equal(tree.exists("./Vendor/A"), false);
        assert.equal(app.responseTo(pkg2[4]!)?.results[0]?.items[0]?.data, "b");
        assert.equal(app.responseTo(pkg4[0]!)?.results[0]?.items[0]?.data, noise(9000, 1));
        assert.ok(result.messages >= 8, `${result.messages} client messages`);
      });
    }
  }
});

describe("HTTP binding on loopback", () => {
  const c = credentials("hmac");
  const app = new ScriptedApp(new ClientStore(c));
  const engine = makeServer(app, {
    respUri: (s) => `${baseUrl}?s=${encodeURIComponent(s.sessionId)}`,
  });
  let http: Server;
  let baseUrl = "";
  const seenUrls: string[] = [];

  before(async () => {
    const handler = createDmHttpHandler(engine, { maxBodyBytes: 64 * 1024 });
    const l = await listen((req, res) => {
      seenUrls.push(req.url ?? "");
      void handler(req, res);
    });
    http = l.server;
    baseUrl = l.url;
  });
  after(() => {
    http.closeAllConnections();
    return new Promise<void>((resolve) => http.close(() => resolve()));
  });

  for (const encoding of ENCODINGS) {
    test(`a full HMAC session in ${encoding}, x-syncml-hmac both ways, RespURI followed`, async () => {
      const tree = makeDevice(c, baseUrl, app.store.nonces);
      const replace: OutCommand = {
        kind: "Add",
        items: [{ target: { locUri: "./Vendor/Mode" }, meta: { format: "chr" }, data: encoding }],
      };
      const get: OutCommand = { kind: "Get", items: [{ target: { locUri: "./Vendor/Mode" } }] };
      app.script.splice(0, app.script.length, [replace], [get]);
      app.packages = 0;
      const seen: Array<string | null> = [];
      const transport = fetchTransport();
      const client = makeClient(
        tree,
        async (req) => {
          const res = await transport(req);
          seen.push(res.headers["x-syncml-hmac"] ?? null);
          assert.equal(res.mediaType, `application/vnd.syncml.dm+${encoding}`);
          return res;
        },
        { encoding },
      );
      seenUrls.length = 0;
      const result = await client.start();
      assert.equal(result.outcome, "completed");
      assert.equal(app.responseTo(get)?.results[0]?.items[0]?.data, encoding);
      assert.ok(seen.every((h) => h?.startsWith("algorithm=MD5")));
      assert.equal(seenUrls[0], "/dm");
      assert.ok(
        seenUrls.slice(1).every((u) => u.startsWith("/dm?s=")),
        seenUrls.join(" "),
      );
    });
  }

  async function post(
    body: string | Uint8Array,
    contentType?: string,
    method = "POST",
  ): Promise<Response> {
    return fetch(baseUrl, {
      method,
      ...(method === "POST" ? { body } : {}),
      headers: contentType ? { "content-type": contentType } : {},
    });
  }

  test("415 for a non-SyncML media type", async () => {
    const res = await post("<SyncML/>", "text/xml");
    assert.equal(res.status, 415);
  });

  test("405 for GET", async () => {
    const res = await post("", undefined, "GET");
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "POST");
  });

  test("413 beyond the body limit", async () => {
    const res = await post(new Uint8Array(70 * 1024).fill(0x20), "application/vnd.syncml.dm+xml");
    assert.equal(res.status, 413);
  });

  test("400 without a stack for malformed SyncML, in both families of media types", async () => {
    for (const type of [
      "application/vnd.syncml.dm+xml",
      "application/vnd.syncml+xml; charset=UTF-8",
    ]) {
      const res = await post("<SyncML><SyncHdr>", type);
      assert.equal(res.status, 400);
      const text = await res.text();
      assert.match(text, /^XML_MALFORMED: /);
      assert.doesNotMatch(text, /\bat .*\.ts:\d+/);
    }
  });

  test("400 when the body's encoding contradicts the Content-Type", async () => {
    const res = await post("<SyncML/>", "application/vnd.syncml.dm+wbxml");
    assert.equal(res.status, 400);
  });

  test("a data-sync media type is answered in the same media type", async () => {
    const tree = makeDevice(c, baseUrl);
    app.script.splice(0, app.script.length);
    app.packages = 0;
    const types: string[] = [];
    const transport = fetchTransport();
    const client = makeClient(tree, async (req) => {
      const res = await transport({ ...req, mediaType: "application/vnd.syncml+xml" });
      types.push(res.mediaType);
      return res;
    });
    assert.equal((await client.start()).outcome, "completed");
    assert.ok(types.length > 0);
    assert.ok(types.every((t) => t === "application/vnd.syncml+xml"));
  });

  test("the fetch transport refuses a non-200 answer", async () => {
    const transport = fetchTransport();
    await assert.rejects(
      transport({ url: baseUrl, body: new Uint8Array(0), mediaType: "text/plain", headers: {} }),
      (e: unknown) => e instanceof DmHttpError && e.status === 415,
    );
  });
});
