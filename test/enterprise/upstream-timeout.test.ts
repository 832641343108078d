// The MDAS's calls to its upstreams (src/enterprise/upstream/forward.ts, verdict-key.ts) against
// a real loopback server: each call's timeout covers the answer's body, and its timer is gone
// once the call has returned (AbortSignal.timeout kept one for the whole timeout after each
// call, that is per activation).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type EnterpriseContext, enterpriseContext } from "../../src/enterprise/context.js";
import { isEnterpriseError } from "../../src/enterprise/errors.js";
import type { Upstream } from "../../src/enterprise/index.js";
import { upstreamNonce } from "../../src/enterprise/upstream/forward.js";
import { VerdictKeys } from "../../src/enterprise/upstream/verdict-key.js";
import { type Keystore, openSoftwareKeystore } from "../../src/keystore/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { type LoopbackServer, loopbackServer, timersOf } from "../support/timeouts.js";

/** A timeout no other timer of the process has, so the call's own can be picked out. */
const LONG_MS = 61_234;
const SHORT_MS = 200;
const JWK_PUBLIC = { kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" };

describe("the MDAS's upstream calls: timeout and timer", () => {
  let server: LoopbackServer;
  let dir: string;
  let store: Store;
  let keystore: Keystore;

  before(async () => {
    server = await loopbackServer((method, path) => {
      if (method === "POST" && path === "/carriers/acme/activation/nonce") {
        return { nonce: "bm9uY2Utb2YtdGhlLXRlc3Q", expiresAt: "2030-01-01T00:00:00.000Z" };
      }
      if (method === "GET" && path === "/carriers/acme/verdict-key") return { jwk: JWK_PUBLIC };
      return undefined;
    });
    dir = await mkdtemp(join(tmpdir(), "dmguard-upstream-timeout-"));
    store = await openStore("sqlite::memory:");
    keystore = await openSoftwareKeystore({ dir: join(dir, "keystore") });
  });
  after(async () => {
    await server?.close();
    await keystore?.close();
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** An enterprise whose carrier acme is reached at `path` of the loopback server. */
  let n = 0;
  async function mdas(path: string, timeoutMs: number): Promise<EnterpriseContext> {
    return enterpriseContext({
      enterpriseId: `corp-${++n}`,
      store,
      keystore,
      upstreams: { acme: { kind: "carrier", baseUrl: `${server.url}${path}` } },
      upstreamTimeoutMs: timeoutMs,
    });
  }
  const acme = (ctx: EnterpriseContext): Upstream => ctx.upstreams.acme!;

  test("a nonce and a verdict key fetched: no timer left behind", async () => {
    const ctx = await mdas("", LONG_MS);
    const nonce = await timersOf(LONG_MS, () => upstreamNonce(ctx, "acme"));
    assert.equal(nonce.value.nonce, "bm9uY2Utb2YtdGhlLXRlc3Q");
    assert.equal(nonce.started, 1, "the call's timer was seen");
    assert.equal(nonce.pending, 0, "its timer was cleared when the call returned");

    const key = await timersOf(LONG_MS, () => new VerdictKeys().keyFor(ctx, acme(ctx), "acme"));
    assert.deepEqual(key.value, { jwk: JWK_PUBLIC, pinned: false });
    assert.equal(key.started, 1);
    assert.equal(key.pending, 0);
  });

  test("a verdict key refused (its body left unread): no timer left behind", async () => {
    const ctx = await mdas("", LONG_MS);
    const refused = await timersOf(LONG_MS, () =>
      new VerdictKeys().keyFor(ctx, acme(ctx), "globex").then(
        () => assert.fail("expected UPSTREAM_UNAVAILABLE"),
        (e: unknown) => e,
      ),
    );
    assert.ok(isEnterpriseError(refused.value, "UPSTREAM_UNAVAILABLE"), String(refused.value));
    assert.equal(refused.started, 1);
    assert.equal(refused.pending, 0);
  });

  for (const [how, path] of [
    ["never answers", "/hang"],
    ["stops in the middle of its body", "/stall"],
  ] as const) {
    test(`an upstream that ${how}: UPSTREAM_UNAVAILABLE, as before`, async () => {
      const ctx = await mdas(path, SHORT_MS);
      await assert.rejects(
        upstreamNonce(ctx, "acme"),
        (e) =>
          isEnterpriseError(e, "UPSTREAM_UNAVAILABLE") &&
          e.message === "the carrier server could not be reached",
      );
      await assert.rejects(
        new VerdictKeys().keyFor(ctx, acme(ctx), "acme"),
        (e) =>
          isEnterpriseError(e, "UPSTREAM_UNAVAILABLE") &&
          e.message === "the carrier server's verdict key could not be fetched",
      );
    });
  }
});
