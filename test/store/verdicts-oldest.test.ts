/**
 * `verdicts.oldestForImei`, on every backend: the IMEI's oldest verdict of one kind, past any
 * page of newest verdicts, in its own part only.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isStoreError, type Store } from "../../src/store/index.js";
import { BACKENDS, frozenClock, type Target } from "./backends.js";

const IMEI = "350000000000017";
const OTHER = "350000000000025";

for (const backend of BACKENDS) {
  describe(`verdicts.oldestForImei on ${backend.name}`, () => {
    let target: Target;
    let store: Store;
    const clock = frozenClock();

    before(async () => {
      target = await backend.setup();
      store = await target.open({ now: clock.now });
    });
    after(async () => {
      await store?.close();
      await target?.cleanup();
    });

    it("finds the first approval behind 1,500 newer verdicts, per kind, IMEI and part", async () => {
      const p = store.part("carrier:acme");
      const t0 = clock.now();
      assert.equal(await p.verdicts.oldestForImei(IMEI, "approved"), null);
      await p.transaction(async (tx) => {
        const record = (nonce: string, imei: string, verdict: "approved" | "denied", at: number) =>
          tx.verdicts.record({ nonce, imei, verdict, reasons: [], evidenceHash: nonce }, at);
        await record("d0", IMEI, "denied", t0 - 10);
        await record("a0", IMEI, "approved", t0);
        for (let i = 1; i <= 1500; i++) {
          await record(`n${i}`, IMEI, i % 2 ? "approved" : "denied", t0 + i);
        }
        // Older, but another device's, or another part's.
        await record("o0", OTHER, "approved", t0 - 100);
      });
      await store
        .part("carrier:globex")
        .verdicts.record(
          { nonce: "g0", imei: IMEI, verdict: "approved", reasons: [], evidenceHash: "g" },
          t0 - 1000,
        );

      assert.equal((await p.verdicts.forImei(IMEI, 1000)).at(-1)?.createdAt, t0 + 501);
      const first = await p.verdicts.oldestForImei(IMEI, "approved");
      assert.deepEqual([first?.nonce, first?.createdAt, first?.part], ["a0", t0, "carrier:acme"]);
      assert.equal((await p.verdicts.oldestForImei(IMEI, "denied"))?.nonce, "d0");
      assert.equal((await p.verdicts.oldestForImei(OTHER, "approved"))?.nonce, "o0");
      assert.equal(await p.verdicts.oldestForImei(OTHER, "denied"), null);
      assert.equal(
        (await store.part("carrier:globex").verdicts.oldestForImei(IMEI, "approved"))?.nonce,
        "g0",
      );
    });

    it("refuses a bad IMEI or kind with ARGUMENT_INVALID", async () => {
      const p = store.part("carrier:acme");
      await assert.rejects(p.verdicts.oldestForImei("", "approved"), (e) =>
        isStoreError(e, "ARGUMENT_INVALID"),
      );
      await assert.rejects(p.verdicts.oldestForImei(IMEI, "maybe" as never), (e) =>
        isStoreError(e, "ARGUMENT_INVALID"),
      );
    });
  });
}
