// The device's calls to the activation routes (src/device/activation/carrier-api.ts) against a
// real loopback server: the request's timeout covers the answer's body, and its timer is gone
// once the call has returned (AbortSignal.timeout kept one for the whole timeout after each call).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import { CarrierActivationApi } from "../../src/device/activation/carrier-api.js";
import { isActivationError } from "../../src/device/index.js";
import { type LoopbackServer, loopbackServer, timersOf } from "../support/timeouts.js";

/** A timeout no other timer of the process has, so the call's own can be picked out. */
const LONG_MS = 61_234;
const NONCE = "bm9uY2Utb2YtdGhlLXRlc3Q";

describe("the device's activation calls: timeout and timer", () => {
  let server: LoopbackServer;
  before(async () => {
    server = await loopbackServer((method, path) =>
      method === "POST" && path === "/carriers/acme/activation/nonce"
        ? { nonce: NONCE, expiresAt: "2030-01-01T00:00:00.000Z" }
        : undefined,
    );
  });
  after(() => server?.close());

  const api = (baseUrl: string, timeoutMs: number) =>
    new CarrierActivationApi({ baseUrl, carrier: "acme", timeoutMs });

  test("an answered call leaves no timer behind", async () => {
    const ok = await timersOf(LONG_MS, () => api(server.url, LONG_MS).nonce());
    assert.equal(ok.value, NONCE);
    assert.equal(ok.started, 1, "the call's timer was seen");
    assert.equal(ok.pending, 0, "its timer was cleared when the call returned");
  });

  test("a refused call (an error status, its body read) leaves no timer behind", async () => {
    const refused = await timersOf(LONG_MS, () =>
      api(server.url, LONG_MS)
        .submitEvidence("x.y.z")
        .then(
          () => assert.fail("expected SERVER_REFUSED"),
          (e: unknown) => e,
        ),
    );
    assert.ok(isActivationError(refused.value, "SERVER_REFUSED"), String(refused.value));
    assert.match((refused.value as Error).message, /HTTP 404 .*: NOT_FOUND: no such route$/);
    assert.equal(refused.started, 1);
    assert.equal(refused.pending, 0);
  });

  test("a server that never answers: SERVER_UNREACHABLE, timed out", async () => {
    await assert.rejects(
      api(`${server.url}/hang`, 200).nonce(),
      (e) =>
        isActivationError(e, "SERVER_UNREACHABLE") &&
        e.message ===
          `cannot reach carrier acme at ${server.url}/hang/carriers/acme/activation/nonce: timed out`,
    );
  });

  test("a server that stops in the middle of its body: the same error", async () => {
    await assert.rejects(
      api(`${server.url}/stall`, 200).nonce(),
      (e) =>
        isActivationError(e, "SERVER_UNREACHABLE") &&
        e.message ===
          `cannot reach carrier acme at ${server.url}/stall/carriers/acme/activation/nonce: timed out`,
    );
  });

  test("a server that drops each connection unanswered: the call still ends, in a process of its own", async () => {
    // Node 20's fetch can hang for good, holding nothing that keeps a process alive, when the
    // server closes the connection before answering: only the call's own timer ends it. A
    // process with nothing else to wait for (the command line) exited 13, printing nothing.
    const dropper = createServer((socket) => socket.destroy());
    dropper.listen(0, "127.0.0.1");
    await once(dropper, "listening");
    const { port } = dropper.address() as { port: number };
    try {
      const api = new URL("../../src/device/activation/carrier-api.ts", import.meta.url).href;
      const script = [
        `const { CarrierActivationApi } = await import(${JSON.stringify(api)});`,
        `const c = new CarrierActivationApi({ baseUrl: "http://127.0.0.1:${port}", carrier: "acme", timeoutMs: 500 });`,
        "await c.nonce().then(() => console.log('answered'), (e) => console.log(e.code, e.message));",
      ].join("\n");
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", script],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let out = "";
      child.stdout.on("data", (b: Buffer) => {
        out += b.toString("utf8");
      });
      const [code] = await once(child, "close");
      assert.equal(code, 0, `the process ended with ${code}, printing ${JSON.stringify(out)}`);
      assert.match(out, /^SERVER_UNREACHABLE cannot reach carrier acme at .*: /);
    } finally {
      dropper.close();
    }
  });
});
