/**
 * How the carrier reads the platform's answer to a batch of custody events: each result is
 * `{ applied }` or an error answer with a code; a result that is neither (a null, an error
 * without a code) makes the whole answer untrustworthy, so the batch is retried rather than any
 * row counted as delivered. A stand-in platform on port 0 gives the answers.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { OutboxRow } from "../../src/carrier/platform-sync/outbox.js";
import { sendBatch } from "../../src/carrier/platform-sync/send.js";

const row = (imei: string): OutboxRow =>
  ({ imei, event: "blocked", version: 1, kid: "k", attempts: 0, dueAt: 0 }) as OutboxRow;

describe("a batch answer, result by result", () => {
  let server: Server;
  let results: unknown[] = [];
  let url = "";
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ results }));
      });
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/platform`;
  });
  after(() => new Promise<void>((ok) => server.close(() => ok())));

  const send = (answer: unknown[]) => {
    results = answer;
    const target = { url, carrier: "acme", token: "t", timeoutMs: 2_000 };
    return sendBatch(target, [row("356938035643809"), row("356938035643817")]);
  };

  test("applied, not applied, a final refusal and one to retry, each as answered", async () => {
    assert.deepEqual(
      await send([{ applied: true }, { error: { code: "DEVICE_NOT_FOUND", message: "x" } }]),
      {
        kind: "each",
        outcomes: [
          { kind: "delivered", applied: true },
          { kind: "dropped", why: "DEVICE_NOT_FOUND" },
        ],
      },
    );
    assert.deepEqual(await send([{ applied: false }, { error: { code: "CONFLICT" } }]), {
      kind: "each",
      outcomes: [
        { kind: "delivered", applied: false },
        { kind: "retry", why: "CONFLICT" },
      ],
    });
  });

  test("a result that is not one of the two shapes: the batch is retried, nothing delivered", async () => {
    for (const bad of [
      [null, { applied: true }],
      [{ applied: true }, { error: null }],
      [{ applied: true }, { error: { code: 7 } }],
      [{ applied: true }, "ok"],
    ]) {
      assert.deepEqual(
        await send(bad),
        { kind: "retry", why: "the platform's answer does not match the batch" },
        JSON.stringify(bad),
      );
    }
  });
});
