/**
 * `serve carrier` for acme as its own process on a PostgreSQL schema of its own, for the tests
 * that need that server on PostgreSQL (a crash inside its transaction, concurrent requests):
 * the schema, the OEM CA and the config in a temporary folder, the server, and a factory that
 * makes devices for it. `close` drops the schema and the folder.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { JWK } from "jose";
import pg from "pg";
import type { OemCa } from "../../src/device/index.js";
import { startServer, tempDir, type UpProcess } from "../cli/stack-support.js";
import { PG_URL } from "../store/backends.js";
import { CARRIER, carrierCaller, type Factory, type Lab, sharedOemCa } from "./helpers.js";

export interface PgCarrier {
  /** The store URL, with the schema. */
  readonly url: string;
  readonly ca: OemCa;
  /** Starts `serve carrier` on `port` (0: any), with a crash point armed if given. */
  serve(port: number, crashAt?: string): Promise<UpProcess>;
  /** The admin caller and the device factory of a started server. */
  factoryFor(server: UpProcess): Promise<{ call: Lab["call"]; factory: Factory }>;
  close(): Promise<void>;
}

export async function pgCarrier(name: string): Promise<PgCarrier> {
  const dir = await tempDir(name);
  const schema = `dmg_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const url = `${PG_URL}?schema=${schema}`;
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const ca = await sharedOemCa();
  await writeFile(join(dir.path, "oem-ca.pem"), ca.certificatePem);
  const config = join(dir.path, "acme.json");
  await writeFile(
    config,
    JSON.stringify({ carrier: CARRIER, dataDir: "data", oemCaCertificate: "oem-ca.pem" }),
  );
  return {
    url,
    ca,
    serve: (port, crashAt) =>
      startServer(
        ["serve", "carrier", "--config", config, "--db", url, "--port", String(port), "--no-log"],
        20_000,
        crashAt ? { DMGUARD_CRASH_AT: crashAt } : undefined,
      ),
    async factoryFor(server) {
      const creds = JSON.parse(await readFile(join(dir.path, "data", "credentials.json"), "utf8"));
      const call = carrierCaller(server.baseUrl, creds.adminTokens[`carrier:${CARRIER}`]);
      const { jwk } = (await (await call("/verdict-key")).json()) as { jwk: JWK };
      return { call, factory: { root: dir.path, ca, verdictJwk: jwk, base: server.baseUrl, call } };
    },
    async close() {
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
      await dir.remove();
    },
  };
}
