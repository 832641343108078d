// globex's custody deposit after a migration, refused by the platform: an answer the same
// deposit would get again (409 CONFLICT, 400 DEPOSIT_INVALID, …) drops the job, audited and
// logged once, instead of sending it every few minutes forever; a platform that is down, busy
// or behind a wrong address is still retried. Real HTTP: the real platform first, then a tiny
// node:http server on port 0 for the answers the platform cannot be made to give on demand.
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { MigrationPlatform } from "../../src/carrier/migration/platform-client.js";
import { openSoftwareKeystore } from "../../src/keystore/index.js";
import { getRecord } from "../../src/platform/custody/records.js";
import {
  type MigrationStack,
  makeMigrationStack,
  migratedDuringOutage,
  migrationDelivered,
} from "./helpers.js";

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

describe("a custody deposit the platform refuses for good", () => {
  let s: MigrationStack;
  before(async () => {
    s = await makeMigrationStack({ recordWire: true });
  });
  after(() => s.close());

  test("409 CONFLICT: dropped, audited and logged once; never sent again", async () => {
    // The platform is down when the migration completes, so the deposit waits in the queue.
    const { device, imei } = await migratedDuringOutage(s, ["platform"]);
    const globex = s.store.part("carrier:globex");
    const job = `${imei}/migration-custody`;
    // Meanwhile the platform came to hold another key of globex under the same kid (made
    // elsewhere, wrapped to the platform): the deposit conflicts with it now and always will.
    const migration = await globex.kv.get("migrations", imei);
    assert.ok(migration, "globex recorded the migration");
    const { kid } = migration.value as { kid: string };
    const elsewhere = join(s.root, "other-keystore");
    const other = await openSoftwareKeystore({ dir: elsewhere });
    try {
      const made = await other
        .forOwner("carrier:globex")
        .createDeviceKey(await s.platformKs.transportPublicKey(), { kid });
      await s.platformKs.forOwner("carrier:globex").importDeviceKey(made.wrapped);
    } finally {
      await other.close();
      await rm(elsewhere, { recursive: true, force: true });
    }
    s.outage.platform = false;

    const drops = async () =>
      (await globex.audit.list({ limit: 10_000 })).filter(
        (e) => e.subject === imei && e.action === "migration-finish-dropped",
      );
    const end = Date.now() + 10_000;
    while ((await drops()).length === 0 && Date.now() < end) await sleep(50);
    const [drop, ...more] = await drops();
    assert.ok(drop, "the drop is audited (without the fix the deposit is retried forever)");
    assert.equal(more.length, 0);
    assert.equal(drop.details.event, "migration-custody");
    assert.match(String(drop.details.why), /^the platform answered 409 CONFLICT to PUT /);
    assert.ok(
      s.logs.some((l) => l.includes("migration-finish: dropped") && l.includes(imei)),
      "the drop is logged",
    );
    // The rest of the migration is untouched: it stands, and acme is told.
    await migrationDelivered(s);
    const row = (await globex.kv.get("migrations", imei))?.value as {
      state: string;
      custodyDeposited: boolean;
      sourceNotified: boolean;
    };
    assert.equal(row.state, "complete");
    assert.equal(row.custodyDeposited, false, "nothing was deposited");
    assert.equal(row.sourceNotified, true);
    assert.equal(await getRecord(s.platform, "globex", imei), null);

    // Several backoff periods (at most 400 ms here) later: not sent again, nothing queued.
    const deposits = () =>
      s.wire.filter((b) => b.includes('"wrappedKey"') && b.includes(`"kid":"${kid}"`)).length;
    const sent = deposits();
    assert.ok(sent >= 1, "the platform received the deposit and answered it");
    await sleep(1500);
    assert.equal(deposits(), sent, "no deposit sent after the refusal");
    assert.equal(await globex.kv.get("migration/outbox", job), null);
    assert.equal((await drops()).length, 1);
    await device.close();
  });
});

describe("how a deposit's answer is judged (a tiny server in the platform's place)", () => {
  let server: Server;
  let base = "";
  /** The answer to the next request, or no answer at all (headers, or the body, never end). */
  let answer: { status: number; type: string; body: string } | "stall-headers" | "stall-body";
  const seen: Array<{ method: string; url: string; auth: string; body: string }> = [];
  before(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString("utf8");
      });
      req.on("end", () => {
        seen.push({
          method: req.method ?? "",
          url: req.url ?? "",
          auth: req.headers.authorization ?? "",
          body,
        });
        if (answer === "stall-headers") return;
        if (answer === "stall-body") {
          res.writeHead(200, { "content-type": "application/json" });
          res.write('{"imei":');
          return;
        }
        res.writeHead(answer.status, { "content-type": answer.type });
        res.end(answer.body);
      });
    });
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/platform`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((res) => server.close(res));
  });

  const platform = () => new MigrationPlatform({ url: base, token: "tok-1" }, 300);
  const json = (status: number, code?: string) => ({
    status,
    type: "application/json",
    body: JSON.stringify(code ? { error: { code, message: "m" } } : {}),
  });
  const path = "/custody/globex/devices/490154203237518";
  const deposit = () => platform().deposit("globex", "490154203237518", { kid: "k1" });

  test("the platform's own final refusals are final", async () => {
    for (const [status, code] of [
      [400, "INVALID_REQUEST"],
      [400, "DEPOSIT_INVALID"],
      [400, "MALFORMED_BODY"],
      [404, "DEVICE_NOT_FOUND"],
      [409, "CONFLICT"],
    ] as const) {
      answer = json(status, code);
      const r = await deposit();
      assert.deepEqual(
        r,
        {
          stored: false,
          final: true,
          why: `the platform answered ${status} ${code} to PUT ${path}`,
        },
        `${status} ${code}`,
      );
    }
    const last = seen[seen.length - 1]!;
    assert.equal(last.method, "PUT");
    assert.equal(last.url, `/platform${path}`);
    assert.equal(last.auth, "Bearer tok-1");
    assert.deepEqual(JSON.parse(last.body), { kid: "k1" });
  });

  test("anything else is retried: 5xx, 429, 401, a 404 not the platform's own", async () => {
    const cases = [
      json(500, "INTERNAL"),
      json(503, "UNAVAILABLE"),
      json(502),
      json(429),
      json(408),
      json(401, "TOKEN_INVALID"),
      // No such route (a wrong base URL), a proxy's page, a code whose status does not match.
      json(404, "NOT_FOUND"),
      { status: 404, type: "text/html", body: "<html>Not Found</html>" },
      json(404, "CONFLICT"),
    ];
    for (const c of cases) {
      answer = c;
      const r = await deposit();
      assert.equal(r.stored, false);
      assert.equal(r.stored === false && r.final, false, `${c.status} ${c.body}`);
    }
    answer = json(200);
    assert.deepEqual(await deposit(), { stored: true });
  });

  test("no answer within the timeout, headers or body: retried, not waited for", async () => {
    for (const a of ["stall-headers", "stall-body"] as const) {
      answer = a;
      const t0 = Date.now();
      const r = await deposit();
      assert.ok(Date.now() - t0 < 3_000, `${a}: gave up after the 300 ms timeout`);
      assert.equal(r.stored, false);
      assert.equal(r.stored === false && r.final, false);
      assert.match(r.stored === false ? r.why : "", /cannot be reached .*TimeoutError/);
    }
    // The questions keep their own semantics: any failure is UNAVAILABLE.
    answer = json(409, "CONFLICT");
    await assert.rejects(platform().ask("e"), { name: "CarrierError", code: "UNAVAILABLE" });
    answer = { status: 200, type: "text/html", body: "<html></html>" };
    await assert.rejects(platform().transportKey(), { name: "CarrierError", code: "UNAVAILABLE" });
    answer = { status: 200, type: "application/json", body: '{"jwk":{"kty":"EC"}}' };
    assert.deepEqual(await platform().transportKey(), { kty: "EC" });
  });
});
