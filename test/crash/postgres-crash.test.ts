// The verdict's transaction on PostgreSQL: `serve carrier --db postgres://…` killed inside it
// (SIGKILL drops the connection, so the server aborts the transaction) leaves nothing of the
// activation; restarted, one retry of the device provisions it. The schema is this run's own.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { activateDevice } from "../../src/device/index.js";
import { openStore, type Store } from "../../src/store/index.js";
import { manufacture } from "../carrier/helpers.js";
import { pgCarrier } from "../carrier/postgres-carrier.js";
import type { UpProcess } from "../cli/stack-support.js";
import { assertWhole, CARRIER, carrierRecord } from "./crash-support.js";

const POINT = "carrier.activation.verdict-recorded";

describe("serve carrier on PostgreSQL, killed inside the verdict's transaction", () => {
  test("nothing of the activation is left; restarted, one retry provisions", async () => {
    const pgc = await pgCarrier("crash-pg");
    let server: UpProcess | undefined;
    let store: Store | undefined;
    try {
      server = await pgc.serve(0, POINT);
      // The same port after the restart: the device keeps the server URL it was made with.
      const port = Number(new URL(server.baseUrl).port);
      const { device, record } = await manufacture((await pgc.factoryFor(server)).factory);
      try {
        await assert.rejects(activateDevice(device), /cannot reach/);
        await server.stop();
        assert.equal(server.signal(), "SIGKILL", `${POINT} was never reached`);

        server = await pgc.serve(port);
        store = await openStore(pgc.url);
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
      await pgc.close();
    }
  });
});
