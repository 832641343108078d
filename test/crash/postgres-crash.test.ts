// The verdict's transaction on PostgreSQL: `serve carrier --db postgres://…` killed inside it
// (SIGKILL drops the connection, so the server aborts the transaction) leaves nothing of the
// activation; restarted, one retry of the device provisions it. The schema is this run's own.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { JWK } from "jose";
import pg from "pg";
import { activateDevice } from "../../src/device/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { carrierCaller, manufacture, sharedOemCa } from "../carrier/helpers.js";
import { startServer, tempDir, type UpProcess } from "../cli/stack-support.js";
import { PG_URL } from "../store/backends.js";
import { assertWhole, CARRIER, carrierRecord } from "./crash-support.js";

const POINT = "carrier.activation.verdict-recorded";

describe("serve carrier on PostgreSQL, killed inside the verdict's transaction", () => {
  test("nothing of the activation is left; restarted, one retry provisions", async () => {
    const dir = await tempDir("crash-pg");
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
      const serve = (port: number, crashAt?: string) =>
        startServer(
          ["serve", "carrier", "--config", config, "--db", url, "--port", String(port), "--no-log"],
          20_000,
          crashAt ? { DMGUARD_CRASH_AT: crashAt } : undefined,
        );
      server = await serve(0, POINT);
      // The same port after the restart: the device keeps the server URL it was made with.
      const port = Number(new URL(server.baseUrl).port);
      const creds = JSON.parse(await readFile(join(dir.path, "data", "credentials.json"), "utf8"));
      const call = carrierCaller(server.baseUrl, creds.adminTokens[`carrier:${CARRIER}`]);
      const { jwk } = (await (await call("/verdict-key")).json()) as { jwk: JWK };
      const { device, record } = await manufacture({
        root: dir.path,
        ca,
        verdictJwk: jwk,
        base: server.baseUrl,
        call,
      });
      try {
        await assert.rejects(activateDevice(device), /cannot reach/);
        await server.stop();
        assert.equal(server.signal(), "SIGKILL", `${POINT} was never reached`);

        server = await serve(port);
        store = await openStore(url);
        assert.equal(assertWhole(await carrierRecord(store, record.imei), POINT), "nothing");
        const r = await activateDevice(device);
        assert.equal(r.verdict, "approved");
        assert.equal(r.networkAccess, "full");
        assert.equal(r.profile?.access, "full");
        const after = await carrierRecord(store, record.imei);
        assert.equal(assertWhole(after, POINT), "provisioned");
        assert.equal(after.verdicts.length, 1);
        assert.equal((await store.verifyAudit(`carrier:${CARRIER}`)).ok, true);
      } finally {
        await device.close();
      }
    } finally {
      await store?.close();
      await server?.stop();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
      await dir.remove();
    }
  });
});
