import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { createRootApp, issueAdminToken, registerCarrier } from "../../src/carrier/index.js";
import { createOemCa } from "../../src/device/index.js";
import { openSoftwareKeystore } from "../../src/keystore/index.js";
import { openStore, sqliteUrlFor } from "../../src/store/index.js";
import { activate, type Lab, makeLab, manufacture } from "./helpers.js";

describe("healthz, metrics, openapi (inject)", () => {
  let lab: Lab;
  const lines: string[] = [];
  before(async () => {
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    lab = await makeLab({ http: { logger: { level: "info", stream } } });
  });
  after(() => lab.close());

  test("GET /healthz", async () => {
    const r = await lab.app.inject({ method: "GET", url: "/healthz" });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { status: "ok" });
  });

  test("GET /openapi.json documents every route the app serves", async () => {
    const r = await lab.app.inject({ method: "GET", url: "/openapi.json" });
    assert.equal(r.statusCode, 200);
    const doc = r.json() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    assert.equal(doc.openapi, "3.1.0");
    // Every route the app serves, read from fastify's own route tree, must be documented.
    const served = servedRoutes(lab.app.printRoutes({ commonPrefix: false }));
    assert.ok(served.length >= 13, `found ${served.length} routes`);
    const undocumented = served.filter(([method, path]) => !doc.paths[path]?.[method]);
    assert.deepEqual(undocumented, []);
    // And the parser sees what the carrier is known to serve.
    for (const known of ["/carriers/{id}/activation/evidence", "/carriers/{id}/devices/{imei}"]) {
      assert.ok(
        served.some(([, p]) => p === known),
        known,
      );
    }
  });

  test("GET /metrics counts activations by verdict and reason, with latency", async () => {
    const { device } = await manufacture(lab);
    await device.tamper("debuggable");
    await activate(lab, device);
    await device.close();
    const r = await lab.app.inject({ method: "GET", url: "/metrics" });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers["content-type"] as string, /text\/plain/);
    assert.match(r.body, /dmguard_activations_total\{carrier="acme",verdict="denied"\} 1/);
    assert.match(
      r.body,
      /dmguard_activation_reasons_total\{carrier="acme",reason="ROOT_DEBUGGABLE"\} 1/,
    );
    assert.match(r.body, /dmguard_activation_duration_seconds_bucket/);
    assert.match(r.body, /dmguard_http_request_duration_seconds_bucket/);
  });

  test("logs carry no secrets: tokens, DM secrets, evidence", async () => {
    const { device } = await manufacture(lab);
    const { body } = await activate(lab, device);
    await device.close();
    await lab.call("/devices/353999100000000", {
      headers: { authorization: "Bearer leaked-leaked-leaked-123" },
    });
    const log = lines.join("");
    assert.ok(log.includes('"verdict"'), "the verdict is logged");
    for (const secret of [
      lab.token,
      "leaked-leaked-leaked-123",
      body.dmAccount!.client.secret,
      body.dmAccount!.server.secret,
    ]) {
      assert.ok(!log.includes(secret), "a secret reached the log");
    }
    assert.ok(!log.includes(body.verdict.split(".")[2]!));
  });
});

describe("several carriers on one app", () => {
  test("acme and globex share a port; each sees only its own devices and tokens", async () => {
    const root = await mkdtemp(join(tmpdir(), "dmguard-carriers-"));
    const store = await openStore(sqliteUrlFor(join(root, "data")));
    const keystore = await openSoftwareKeystore({ dir: join(root, "keystore") });
    const ca = await createOemCa({ name: "Shared OEM" });
    const app = createRootApp();
    for (const carrierId of ["acme", "globex"]) {
      await registerCarrier(app, {
        carrierId,
        store,
        keystore,
        oemCaCertificatePems: [ca.certificatePem],
      });
    }
    try {
      const acmeToken = await issueAdminToken(store, "acme");
      const keyA = (await app.inject({ url: "/carriers/acme/verdict-key" })).json() as {
        jwk: { kid: string };
      };
      const keyB = (await app.inject({ url: "/carriers/globex/verdict-key" })).json() as {
        jwk: { kid: string };
      };
      assert.notEqual(keyA.jwk.kid, keyB.jwk.kid);
      const asB = await app.inject({
        method: "POST",
        url: "/carriers/globex/devices/353999100000000/block",
        headers: { authorization: `Bearer ${acmeToken}` },
      });
      assert.equal(asB.statusCode, 401);
      const doc = (await app.inject({ url: "/openapi.json" })).json() as {
        components: { parameters: { CarrierId: { schema: { enum: string[] } } } };
      };
      assert.deepEqual(doc.components.parameters.CarrierId.schema.enum, ["acme", "globex"]);
    } finally {
      await app.close();
      await keystore.close();
      await store.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("a carrier's data and its keystore", () => {
  test("bound at the first start: another keystore is refused, the same one accepted", async () => {
    const root = await mkdtemp(join(tmpdir(), "dmguard-binding-"));
    const store = await openStore(sqliteUrlFor(join(root, "data")));
    const ca = await createOemCa({ name: "Binding OEM" });
    const start = async (dir: string) => {
      const keystore = await openSoftwareKeystore({ dir: join(root, dir) });
      const app = createRootApp();
      try {
        await registerCarrier(app, {
          carrierId: "acme",
          store,
          keystore,
          oemCaCertificatePems: [ca.certificatePem],
        });
        return (
          (await app.inject({ url: "/carriers/acme/verdict-key" })).json() as {
            jwk: { kid: string };
          }
        ).jwk.kid;
      } finally {
        await app.close();
        await keystore.close();
      }
    };
    try {
      const kid = await start("keystore");
      // A new, empty keystore folder (a mistyped keystoreDir): its keys are not the data's.
      await assert.rejects(start("keystore-2"), (err: Error & { code?: string }) => {
        assert.equal(err.code, "KEYSTORE_MISMATCH");
        assert.ok(err.message.includes(kid), err.message);
        return true;
      });
      assert.equal(await start("keystore"), kid, "the first keystore still serves");
      // Another carrier on the same store binds its own.
      const other = await openSoftwareKeystore({ dir: join(root, "keystore-2") });
      const app = createRootApp();
      await registerCarrier(app, {
        carrierId: "globex",
        store,
        keystore: other,
        oemCaCertificatePems: [ca.certificatePem],
      });
      await app.close();
      await other.close();
    } finally {
      await store.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});

/**
 * [method, OpenAPI path] of each route in fastify's printRoutes tree (`├── /path (GET, HEAD)`,
 * children indented by four columns and continuing their parent's path); HEAD is implied by GET.
 */
function servedRoutes(tree: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const stack: string[] = [];
  for (const line of tree.split("\n")) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/u.exec(line);
    if (!m) continue;
    const depth = [...m[1]!].length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack
      .join("")
      .replace(/^\/carriers\/acme\//, "/carriers/{id}/")
      .replace(/:([a-z]+)/g, "{$1}");
    for (const method of (m[3] ?? "").split(", ").filter((x) => x && x !== "HEAD")) {
      out.push([method.toLowerCase(), path]);
    }
  }
  return out;
}
