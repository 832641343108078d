import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { issueAdminToken } from "../../src/carrier/index.js";
import { generateImei } from "../../src/identity/index.js";
import { BACKENDS, type Lab, makeLab, manufacture } from "./helpers.js";

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

function imeis(n: number): string[] {
  const out = new Set<string>();
  while (out.size < n) out.add(generateImei("dmg-phone-1"));
  return [...out];
}

for (const backend of BACKENDS) {
  describe(`admin API (${backend})`, () => {
    let lab: Lab;
    before(async () => {
      lab = await makeLab({ backend });
    });
    after(() => lab.close());

    const part = () => lab.store.part("carrier:acme");

    test("without a token, with a wrong one, or another carrier's → 401 and nothing changed", async () => {
      const [imei] = imeis(1);
      const row = [{ imei, model: "dmg-phone-1", kid: "k1" }];
      const otherCarrier = await issueAdminToken(lab.store, "globex");
      const auditBefore = await part().audit.head();
      for (const authorization of [
        undefined,
        "Bearer wrong-token-wrong-token-wrong",
        `Bearer ${lab.token}x`,
        `Basic ${lab.token}`,
        `Bearer ${otherCarrier}`,
      ]) {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (authorization) headers.authorization = authorization;
        for (const [path, body] of [
          ["/inventory", JSON.stringify(row)],
          [`/devices/${imei}/block`, undefined],
          ["/slot-keys", JSON.stringify({ hpkePublicKey: "x".repeat(87) })],
        ] as const) {
          const res = await lab.call(path, {
            method: "POST",
            headers: body ? headers : { ...headers, "content-type": "" },
            ...(body ? { body } : {}),
          });
          assert.equal(res.status, 401, `${path} with ${authorization}`);
          assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="dmguard"');
          assert.equal(((await res.json()) as ErrorBody).error.code, "UNAUTHORIZED");
        }
        const get = await lab.call(
          `/devices/${imei}`,
          authorization ? { headers: { authorization } } : {},
        );
        assert.equal(get.status, 401);
      }
      assert.equal(await part().inventory.get(imei!), null);
      assert.deepEqual(await part().audit.head(), auditBefore);
    });

    test("CSV import: all rows in; a bad row → 400 naming its line, nothing imported", async () => {
      const [a, b, c] = imeis(3);
      const good = `imei,model,kid,userGroup,contractEnd\n${a},dmg-phone-1,k-a,executive,2027-01-31\n"${b}",dmg-phone-1,"k-b",worker,\n`;
      const ok = await lab.call("/inventory", {
        method: "POST",
        body: good,
        headers: { "content-type": "text/csv" },
        admin: true,
      });
      assert.equal(ok.status, 200, await ok.clone().text());
      assert.deepEqual(await ok.json(), { inserted: 2, updated: 0 });
      assert.equal((await part().inventory.get(a!))?.userGroup, "executive");
      assert.equal((await part().inventory.get(b!))?.contractEnd, null);

      const bad = `imei,model,kid\n${c},dmg-phone-1,k-c\n\n123456789012345,dmg-phone-1,k-d\n`;
      const res = await lab.call("/inventory", {
        method: "POST",
        body: bad,
        headers: { "content-type": "text/csv; charset=utf-8" },
        admin: true,
      });
      assert.equal(res.status, 400);
      const err = (await res.json()) as ErrorBody;
      assert.equal(err.error.code, "INVENTORY_INVALID");
      assert.match(err.error.message, /line 4/);
      const rows = err.error.details?.rows as Array<{ line: number; field: string }>;
      assert.deepEqual(
        rows.map((r) => [r.line, r.field]),
        [[4, "imei"]],
      );
      assert.equal(await part().inventory.get(c!), null, "the good row was not imported either");
    });

    test("a user group the profile has no services for → 400 naming it, nothing imported", async () => {
      const [a, b] = imeis(2);
      const res = await lab.call("/inventory", {
        json: [
          { imei: a, model: "dmg-phone-1", kid: "k", userGroup: "technology" },
          { imei: b, model: "dmg-phone-1", kid: "k", userGroup: "exec" },
        ],
        admin: true,
      });
      assert.equal(res.status, 400);
      const err = (await res.json()) as ErrorBody;
      assert.equal(err.error.code, "INVENTORY_INVALID");
      assert.deepEqual(err.error.details?.rows, [
        { row: 2, field: "userGroup", problem: "is not one of executive, technology, worker" },
      ]);
      assert.equal(await part().inventory.get(a!), null);
    });

    test("CSV: unknown column, ragged row, unclosed quote → 400 with the line", async () => {
      const [a] = imeis(1);
      for (const [csv, line] of [
        [`imei,model,kid,colour\n${a},m,k,red\n`, 1],
        [`imei,model,kid\n${a},dmg-phone-1\n`, 2],
        [`imei,model,kid\n${a},"dmg-phone-1,k\n`, 2],
      ] as const) {
        const res = await lab.call("/inventory", {
          method: "POST",
          body: csv,
          headers: { "content-type": "text/csv" },
          admin: true,
        });
        assert.equal(res.status, 400, csv);
        const err = (await res.json()) as ErrorBody;
        assert.equal(err.error.code, "INVENTORY_INVALID");
        assert.equal(
          (err.error.details?.rows as Array<{ line: number }> | undefined)?.[0]?.line,
          line,
          csv,
        );
      }
      assert.equal(await part().inventory.get(a!), null);
    });

    test("JSON import: a repeated IMEI or an existing one → 400 naming the row, nothing imported", async () => {
      const [a, b, c] = imeis(3);
      const dup = await lab.call("/inventory", {
        json: [
          { imei: a, model: "dmg-phone-1", kid: "k" },
          { imei: b, model: "dmg-phone-1", kid: "k" },
          { imei: a, model: "dmg-phone-1", kid: "k" },
        ],
        admin: true,
      });
      assert.equal(dup.status, 400);
      const err = (await dup.json()) as ErrorBody;
      assert.equal(err.error.code, "INVENTORY_INVALID");
      assert.equal((err.error.details?.rows as Array<{ row: number }> | undefined)?.[0]?.row, 3);
      assert.equal(await part().inventory.get(b!), null);

      await lab.call("/inventory", {
        json: { devices: [{ imei: c, model: "dmg-phone-1", kid: "k" }] },
        admin: true,
      });
      const again = await lab.call("/inventory", {
        json: {
          devices: [
            { imei: b, model: "dmg-phone-1", kid: "k" },
            { imei: c, model: "dmg-phone-1", kid: "k" },
          ],
        },
        admin: true,
      });
      assert.equal(again.status, 400);
      assert.equal(await part().inventory.get(b!), null);
      const upsert = await lab.call("/inventory?mode=upsert", {
        json: { devices: [{ imei: c, model: "dmg-phone-1", kid: "k2" }] },
        admin: true,
      });
      assert.deepEqual(await upsert.json(), { inserted: 0, updated: 1 });
    });

    test("bad input of every kind → a stable code, nothing changed", async () => {
      const head = await part().audit.head();
      const cases: Array<[RequestInit & { admin?: boolean }, string, number, string]> = [
        [
          {
            method: "POST",
            body: "{not json",
            headers: { "content-type": "application/json" },
            admin: true,
          },
          "/inventory",
          400,
          "MALFORMED_BODY",
        ],
        [
          {
            method: "POST",
            body: "<x/>",
            headers: { "content-type": "application/xml" },
            admin: true,
          },
          "/inventory",
          415,
          "UNSUPPORTED_MEDIA_TYPE",
        ],
        [
          {
            method: "POST",
            body: JSON.stringify({ rows: [] }),
            headers: { "content-type": "application/json" },
            admin: true,
          },
          "/inventory",
          400,
          "INVALID_REQUEST",
        ],
        [
          {
            method: "POST",
            body: JSON.stringify({ evidence: "x".repeat(100_000) }),
            headers: { "content-type": "application/json" },
          },
          "/activation/evidence",
          413,
          "BODY_TOO_LARGE",
        ],
        [
          {
            method: "POST",
            body: JSON.stringify({ evidence: 5 }),
            headers: { "content-type": "application/json" },
          },
          "/activation/evidence",
          400,
          "INVALID_REQUEST",
        ],
        [
          {
            method: "POST",
            body: JSON.stringify({ evidence: "a.b.c", extra: 1 }),
            headers: { "content-type": "application/json" },
          },
          "/activation/evidence",
          400,
          "INVALID_REQUEST",
        ],
        [
          { method: "POST", body: "evidence", headers: { "content-type": "text/plain" } },
          "/activation/evidence",
          415,
          "UNSUPPORTED_MEDIA_TYPE",
        ],
        [
          {
            method: "POST",
            body: '{"__proto__":{"x":1}}',
            headers: { "content-type": "application/json" },
          },
          "/activation/nonce",
          400,
          "MALFORMED_BODY",
        ],
        [
          { method: "POST", admin: true },
          "/devices/353999100000000/block",
          404,
          "DEVICE_NOT_FOUND",
        ],
        [{ method: "POST", admin: true }, "/devices/not-an-imei/block", 400, "INVALID_REQUEST"],
        [{ admin: true }, "/devices/353999100000000", 404, "DEVICE_NOT_FOUND"],
        [{}, "/nowhere", 404, "NOT_FOUND"],
        [
          {
            method: "POST",
            body: JSON.stringify({ hpkePublicKey: "A".repeat(87) }),
            headers: { "content-type": "application/json" },
            admin: true,
          },
          "/slot-keys",
          400,
          "RECIPIENT_KEY_INVALID",
        ],
        [
          {
            method: "POST",
            body: JSON.stringify({ hpkePublicKey: 7 }),
            headers: { "content-type": "application/json" },
            admin: true,
          },
          "/slot-keys",
          400,
          "INVALID_REQUEST",
        ],
      ];
      for (const [init, path, status, code] of cases) {
        const res = await lab.call(path, init);
        assert.equal(res.status, status, `${path} ${String(init.body).slice(0, 30)}`);
        assert.equal(((await res.json()) as ErrorBody).error.code, code, path);
      }
      assert.deepEqual(await part().audit.head(), head);
    });

    test("device lookup shows inventory, state, access and verdicts", async () => {
      const { device, record } = await manufacture(lab);
      const res = await lab.call(`/devices/${record.imei}`, { admin: true });
      assert.equal(res.status, 200);
      const d = (await res.json()) as Record<string, unknown>;
      assert.equal(d.imei, record.imei);
      assert.equal(d.kid, record.kid);
      assert.equal(d.status, "active");
      assert.equal(d.state, null);
      await device.close();
    });

    test("the slot-key API wraps a new key to the device; the keystore keeps it", async () => {
      const { record } = await manufacture(lab);
      const kcv = await lab.keystore.keyCheckValue("carrier:acme", record.kid, "probe");
      assert.equal(kcv.length, 16);
    });
  });
}
