import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { isKeystoreError } from "../../src/keystore/index.js";
import { parseRequest } from "../../src/keystore/software/protocol.js";
import { KeystoreWorker } from "../../src/keystore/software/software-keystore.js";
import { tempDir } from "./helpers.js";

const P256 = new Uint8Array(65).fill(1);

describe("the worker's message API", () => {
  let worker: KeystoreWorker;
  let dir: string;
  before(async () => {
    dir = await tempDir();
    worker = new KeystoreWorker();
    await worker.call({ op: "open", dir, masterKeyFile: join(dir, "master.key") });
    await worker.call({ op: "ensureSigningKey", owner: "operator", label: "verdict" });
  });
  after(async () => {
    await worker.call({ op: "close" });
    await worker.terminate();
  });

  const malformed: Array<[string, unknown]> = [
    ["not an object", "ensureSigningKey"],
    ["null", null],
    ["an array", [{ op: "hmac" }]],
    ["no op", { owner: "operator", label: "verdict" }],
    ["unknown op", { op: "exportKey", owner: "operator", label: "verdict" }],
    ["prototype op", { op: "constructor" }],
    ["missing field", { op: "signJws", owner: "operator", label: "verdict", header: null }],
    ["extra field", { op: "ensureSigningKey", owner: "operator", label: "verdict", secret: "x" }],
    ["wrong type", { op: "hmac", owner: "operator", label: "verdict", data: "text" }],
    ["bad owner", { op: "ensureSecretKey", owner: "Carrier A", label: "x" }],
    ["bad label", { op: "ensureSecretKey", owner: "operator", label: "../../etc" }],
    [
      "oversized data",
      { op: "hmac", owner: "operator", label: "verdict", data: new Uint8Array((1 << 20) + 1) },
    ],
    [
      "oversized mac",
      {
        op: "verifyKeyProof",
        owner: "carrier:a",
        kid: "k1",
        message: new Uint8Array(1),
        mac: new Uint8Array(65),
      },
    ],
    [
      "reserved header",
      {
        op: "signJws",
        owner: "operator",
        label: "verdict",
        payload: new Uint8Array(1),
        header: { alg: "none" },
      },
    ],
    [
      "non-JSON header",
      {
        op: "signJws",
        owner: "operator",
        label: "verdict",
        payload: new Uint8Array(1),
        header: { when: new Date(0) },
      },
    ],
    [
      "not a wrapped key",
      {
        op: "importDeviceKey",
        owner: "carrier:a",
        wrapped: { v: 1, kid: "k", owner: "carrier:a" },
      },
    ],
    [
      "a second open",
      { op: "open", dir: "/tmp/elsewhere", masterKeyFile: "/tmp/elsewhere/master.key" },
    ],
    [
      "kid of the wrong shape",
      {
        op: "createDeviceKey",
        owner: "carrier:a",
        recipient: P256,
        kid: "",
        extractable: false,
        custody: null,
      },
    ],
    ["not cloneable", { op: "hmac", owner: "operator", label: "verdict", data: () => 1 }],
  ];

  for (const [name, req] of malformed)
    test(`${name} → BAD_REQUEST, nothing written`, async () => {
      const before = await readFile(join(dir, "keystore.sealed"));
      const reply = await worker.send(req);
      assert.equal(reply.ok, false);
      if (!reply.ok) assert.equal(reply.error.code, "BAD_REQUEST");
      assert.deepEqual(await readFile(join(dir, "keystore.sealed")), before);
    });

  test("requests sent together each get their own answer, garbage among them too", async () => {
    await worker.call({ op: "ensureSecretKey", owner: "operator", label: "batch" });
    const hmac = (n: number) => ({
      op: "hmac",
      owner: "operator",
      label: "batch",
      data: new Uint8Array([n]),
    });
    // One turn of the event loop: these cross to the worker as one message.
    const replies = await Promise.all([
      ...Array.from({ length: 300 }, (_, i) => worker.send(hmac(i % 256))),
      worker.send({ op: "hmac", owner: "operator", label: "batch", data: () => 1 }),
      worker.send({ op: "hmac", owner: "operator", label: "nope", data: new Uint8Array(1) }),
      worker.send(hmac(7)),
    ]);
    const macs = replies.slice(0, 300).map((r) => {
      assert.ok(r.ok);
      return Buffer.from(r.result as Uint8Array).toString("hex");
    });
    // Same input, same MAC; different inputs, different MACs: every answer is its request's.
    assert.equal(new Set(macs).size, 256);
    for (let i = 0; i < 300; i++) assert.equal(macs[i], macs[i % 256]);
    const [uncloneable, unknownKey, last] = replies.slice(300);
    assert.ok(uncloneable && !uncloneable.ok && uncloneable.error.code === "BAD_REQUEST");
    assert.ok(unknownKey && !unknownKey.ok && unknownKey.error.code === "KEY_NOT_FOUND");
    assert.ok(last?.ok);
    assert.equal(Buffer.from(last.result as Uint8Array).toString("hex"), macs[7]);
  });

  test("after all of that the worker still serves", async () => {
    const sig = await worker.call<string>({
      op: "signJws",
      owner: "operator",
      label: "verdict",
      payload: new Uint8Array([123, 125]),
      header: null,
    });
    assert.equal(sig.split(".").length, 3);
  });

  test("parseRequest: any value either parses or is refused with BAD_REQUEST", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.record({
            op: fc.constantFrom("hmac", "signJws", "createDeviceKey", "open", "close", "toString"),
            owner: fc.oneof(fc.string(), fc.constant("carrier:a")),
            label: fc.oneof(fc.string(), fc.constant("x")),
            data: fc.oneof(fc.uint8Array(), fc.anything()),
          }),
        ),
        (v) => {
          try {
            parseRequest(v);
          } catch (err) {
            assert.ok(isKeystoreError(err, "BAD_REQUEST"), String(err));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
