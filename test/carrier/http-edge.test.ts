// The root app's answers to requests no route sees whole (src/carrier/http/root.ts), over raw
// TCP on loopback: a body that never finishes arriving, malformed HTTP, headers too large, a URL
// segment too long, a client that hangs up mid-body. Each gets the one error shape, echoes
// nothing of the request, and none is logged as an error of the server.
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { FastifyInstance } from "fastify";
import { createRootApp } from "../../src/carrier/index.js";
import { bearerToken } from "../../src/server-kit/index.js";

const TIMEOUT_MS = 600;

/** Sends `raw` and reads until the server closes the connection (or `waitMs` passes). */
async function exchange(port: number, raw: string, waitMs = 5_000): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  const chunks: Buffer[] = [];
  socket.on("data", (b: Buffer) => chunks.push(b));
  socket.on("error", () => undefined);
  socket.write(raw);
  await Promise.race([once(socket, "close"), sleep(waitMs)]);
  socket.destroy();
  return Buffer.concat(chunks).toString("utf8");
}

function parse(answer: string): { status: number; headers: string; body: unknown } {
  const [head = "", body = ""] = answer.split("\r\n\r\n");
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  return { status, headers: head.toLowerCase(), body: JSON.parse(body) };
}

describe("the root app's refusals before any route", () => {
  let app: FastifyInstance;
  let port: number;
  const lines: Array<{ level: number; msg: string }> = [];

  before(async () => {
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    });
    app = createRootApp({ requestTimeoutMs: TIMEOUT_MS, logger: { level: "info", stream } });
    app.post("/echo", async (req) => req.body);
    app.get("/things/:id", async (req) => ({ id: (req.params as { id: string }).id }));
    app.get("/bearer", async (req) => ({ presented: bearerToken(req) !== null }));
    await app.listen({ port: 0, host: "127.0.0.1" });
    port = (app.server.address() as AddressInfo).port;
  });
  after(() => app.close());

  test("every answer says no-store; a bearer token in any case of the scheme, and only one", async () => {
    const token = "dmg_0123456789abcdefghijklmnop";
    const ask = (auth: string[]) =>
      exchange(
        port,
        `GET /bearer HTTP/1.1\r\nHost: x\r\n${auth.map((a) => `Authorization: ${a}\r\n`).join("")}Connection: close\r\n\r\n`,
      ).then(parse);
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const r = await ask([`${scheme} ${token}`]);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { presented: true }, scheme);
      assert.match(r.headers, /\r\ncache-control: no-store\r\n/);
    }
    // Node reads the first of two; a proxy or a log may read the other: neither is taken.
    assert.deepEqual((await ask([`Bearer ${token}`, "Bearer garbage-garbage-garbage"])).body, {
      presented: false,
    });
    assert.deepEqual((await ask([`Basic ${token}`])).body, { presented: false });
  });

  test("a body that never finishes arriving: 408 REQUEST_TIMEOUT once the timeout has passed", async () => {
    const started = Date.now();
    const answer = await exchange(
      port,
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{}",
    );
    const took = Date.now() - started;
    const r = parse(answer);
    assert.equal(r.status, 408, answer);
    assert.deepEqual(r.body, {
      error: { code: "REQUEST_TIMEOUT", message: "the request did not arrive in time" },
    });
    assert.ok(took >= TIMEOUT_MS && took < TIMEOUT_MS + 2_000, `answered after ${took} ms`);
  });

  test("malformed HTTP (two Content-Lengths): 400 MALFORMED_REQUEST in the one shape", async () => {
    const r = parse(
      await exchange(
        port,
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
      ),
    );
    assert.equal(r.status, 400);
    assert.deepEqual(r.body, {
      error: { code: "MALFORMED_REQUEST", message: "the request is not well-formed HTTP" },
    });
    assert.match(r.headers, /content-type: application\/json/);
  });

  test("headers too large: 431 HEADERS_TOO_LARGE", async () => {
    const r = parse(
      await exchange(
        port,
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
      ),
    );
    assert.equal(r.status, 431);
    assert.deepEqual(r.body, {
      error: { code: "HEADERS_TOO_LARGE", message: "the request's headers are too large" },
    });
  });

  test("a URL segment too long: 414 URI_TOO_LONG, the URL not echoed", async () => {
    const long = "a".repeat(5_000);
    const r = await app.inject({ method: "GET", url: `/things/${long}` });
    assert.equal(r.statusCode, 414);
    assert.deepEqual(r.json(), {
      error: { code: "URI_TOO_LONG", message: "a segment of the URL is too long" },
    });
  });

  test("a client hanging up mid-body is a refusal in the log, not an error of the server", async () => {
    const before = lines.length;
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    socket.write(
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
    );
    await sleep(100);
    socket.destroy();
    const until = Date.now() + 3_000;
    while (Date.now() < until && !lines.slice(before).some((l) => l.msg !== "incoming request")) {
      await sleep(20);
    }
    const logged = lines.slice(before);
    assert.ok(
      logged.some((l) => l.level === 30 && l.msg === "the request ended before its body did"),
      JSON.stringify(logged),
    );
    assert.deepEqual(
      logged.filter((l) => l.level >= 50),
      [],
    );
  });
});
