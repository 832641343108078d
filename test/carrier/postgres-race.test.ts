// `serve carrier` on PostgreSQL: evidence of one new device, under two nonces, sent at once.
// Both transactions read "no device yet"; under READ COMMITTED both then created it, and the
// second failed with a unique violation, answered as 500. The subject lock (store/types.ts)
// runs them one after the other, as SQLite's write transactions do.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { JWK } from "jose";
import pg from "pg";
import { openStore, type Store } from "../../src/store/index.js";
import { startServer, tempDir, type UpProcess } from "../cli/stack-support.js";
import { PG_URL } from "../store/backends.js";
import { CARRIER, carrierCaller, manufacture, sharedOemCa } from "./helpers.js";

describe("serve carrier on PostgreSQL: one new device activated twice at once", () => {
  test("both answered with a verdict, one device row, both verdicts recorded", async () => {
    const dir = await tempDir("race-pg");
    const schema = `dmg_test_${process.pid}_${randomBytes(4).toString("hex")}`;
    const url = `${PG_URL}?schema=${schema}`;
    const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    let server: UpProcess | undefined;
    let store: Store | undefined;
    try {
      const ca = await sharedOemCa();
      await writeFile(join(dir.path, "oem-ca.pem"), ca.certificatePem);
      const config = join(dir.path, "acme.json");
      await writeFile(
        config,
        JSON.stringify({ carrier: CARRIER, dataDir: "data", oemCaCertificate: "oem-ca.pem" }),
      );
      server = await startServer(
        ["serve", "carrier", "--config", config, "--db", url, "--port", "0", "--no-log"],
        20_000,
      );
      const creds = JSON.parse(await readFile(join(dir.path, "data", "credentials.json"), "utf8"));
      const call = carrierCaller(server.baseUrl, creds.adminTokens[`carrier:${CARRIER}`]);
      const { jwk } = (await (await call("/verdict-key")).json()) as { jwk: JWK };
      store = await openStore(url);
      for (let round = 0; round < 3; round++) {
        const { device, record } = await manufacture({
          root: dir.path,
          ca,
          verdictJwk: jwk,
          base: server.baseUrl,
          call,
        });
        try {
          const evidences = await Promise.all(
            [0, 1].map(async () => {
              const n = await call("/activation/nonce", { method: "POST" });
              const { nonce } = (await n.json()) as { nonce: string };
              return (await device.verify(nonce)).evidence;
            }),
          );
          const answers = await Promise.all(
            evidences.map((evidence) => call("/activation/evidence", { json: { evidence } })),
          );
          const bodies = await Promise.all(answers.map((a) => a.text()));
          assert.deepEqual(
            answers.map((a) => a.status),
            [200, 200],
            bodies.join("\n"),
          );
          for (const b of bodies) assert.equal(JSON.parse(b).decision, "approved");
          const part = store.part(`carrier:${CARRIER}`);
          assert.equal((await part.devices.get(record.imei))?.state, "approved");
          assert.equal((await part.verdicts.forImei(record.imei)).length, 2);
        } finally {
          await device.close();
        }
      }
      assert.equal((await store.verifyAudit(`carrier:${CARRIER}`)).ok, true);
    } finally {
      await store?.close();
      await server?.stop();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
      await dir.remove();
    }
  });
});
