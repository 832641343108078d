// `serve carrier` on PostgreSQL: evidence of one new device, under two nonces, sent at once.
// Both transactions read "no device yet"; under READ COMMITTED both then created it, and the
// second failed with a unique violation, answered as 500. The subject lock (store/types.ts)
// runs them one after the other, as SQLite's write transactions do.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { openStore, type Store } from "../../src/store/index.js";
import type { UpProcess } from "../cli/stack-support.js";
import { CARRIER, manufacture } from "./helpers.js";
import { pgCarrier } from "./postgres-carrier.js";

describe("serve carrier on PostgreSQL: one new device activated twice at once", () => {
  test("both answered with a verdict, one device row, both verdicts recorded", async () => {
    const pgc = await pgCarrier("race-pg");
    let server: UpProcess | undefined;
    let store: Store | undefined;
    try {
      server = await pgc.serve(0);
      const { call, factory } = await pgc.factoryFor(server);
      store = await openStore(pgc.url);
      for (let round = 0; round < 3; round++) {
        const { device, record } = await manufacture(factory);
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
      await pgc.close();
    }
  });
});
