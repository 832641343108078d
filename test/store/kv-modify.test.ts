/**
 * kv.modify (read-change-write with compare-and-set) on every backend, with two store handles on
 * one database — two pools on PostgreSQL, two connections to one file on SQLite — as two server
 * processes would have.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JsonObject, KvEntry, Store } from "../../src/store/index.js";
import { BACKENDS, rejectsCode, type Target } from "./backends.js";

/** Resolves for everyone once `n` callers have arrived: both writers have read the row. */
function barrier(n: number): () => Promise<void> {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((r) => {
    release = r;
  });
  return () => {
    if (++arrived === n) release();
    return all;
  };
}

const countOf = (e: KvEntry | null) => ((e?.value as JsonObject | undefined)?.n as number) ?? 0;

/** A change that adds `by` to the row's counter; the first call waits at `gate` if given. */
function increment(by: number, gate?: () => Promise<void>) {
  let calls = 0;
  const change = async (current: KvEntry | null) => {
    calls++;
    if (calls === 1 && gate) await gate();
    return { n: countOf(current) + by };
  };
  return { change, calls: () => calls };
}

for (const backend of BACKENDS) {
  describe(`kv.modify on ${backend.name}`, () => {
    let target: Target;
    let a: Store;
    let b: Store;
    let seq = 0;
    /** A fresh key per test, so the tests share one database without seeing each other. */
    const fresh = () => `k${++seq}`;
    const kvA = () => a.part("carrier:acme").kv;
    const kvB = () => b.part("carrier:acme").kv;

    before(async () => {
      target = await backend.setup();
      a = await target.open();
      b = await target.open();
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await target?.cleanup();
    });

    it("creates an absent row, and leaves it absent when the change answers undefined", async () => {
      const key = fresh();
      let seen: KvEntry | null | "not called" = "not called";
      assert.equal(
        await kvA().modify("m", key, (cur) => {
          seen = cur;
          return undefined;
        }),
        null,
      );
      assert.equal(seen, null);
      assert.equal(await kvA().get("m", key), null);

      const made = await kvA().modify("m", key, () => ({ n: 1 }), { now: 1_700_000_000_123 });
      assert.deepEqual(made?.value, { n: 1 });
      assert.ok(made && Number.isSafeInteger(made.version) && made.version > 0);
      assert.equal(made?.updatedAt, 1_700_000_000_123);
      assert.deepEqual((await kvB().get("m", key))?.value, { n: 1 });
    });

    it("modifies an existing row from its current value; undefined writes nothing", async () => {
      const key = fresh();
      const v1 = (await kvA().put("m", key, { n: 5, keep: "x" })).version;
      const after1 = await kvA().modify("m", key, (cur) => ({
        ...(cur!.value as JsonObject),
        n: countOf(cur) + 1,
      }));
      assert.deepEqual(after1?.value, { n: 6, keep: "x" });
      assert.equal(after1?.version, v1 + 1);
      const same = await kvA().modify("m", key, () => undefined);
      assert.equal(same?.version, v1 + 1);
      assert.equal((await kvA().get("m", key))?.version, v1 + 1);
    });

    it("two handles modifying one row at the same moment: both changes land", async () => {
      const key = fresh();
      const v1 = (await kvA().put("m", key, { n: 0 })).version;
      // Both read the first version before either writes: exactly one write must lose and retry.
      const gate = barrier(2);
      const x = increment(1, gate);
      const y = increment(10, gate);
      await Promise.all([kvA().modify("m", key, x.change), kvB().modify("m", key, y.change)]);
      const e = await kvA().get("m", key);
      assert.equal(countOf(e), 11);
      assert.equal(e?.version, v1 + 2);
      assert.equal(x.calls() + y.calls(), 3, "one of the two re-read and changed again");
    });

    it("two handles creating one absent row at the same moment: both changes land", async () => {
      const key = fresh();
      const gate = barrier(2);
      const x = increment(1, gate);
      const y = increment(10, gate);
      await Promise.all([kvA().modify("m", key, x.change), kvB().modify("m", key, y.change)]);
      const e = await kvB().get("m", key);
      assert.equal(countOf(e), 11);
      assert.equal(x.calls() + y.calls(), 3, "the second creator re-read and updated the row");
    });

    it("many overlapping modifies from both handles lose none", async () => {
      const key = fresh();
      const writers = 16;
      await Promise.all(
        Array.from({ length: writers }, (_, i) =>
          (i % 2 === 0 ? kvA() : kvB()).modify("m", key, increment(1).change, {
            // A writer fails only after another's success: `writers` attempts always suffice.
            attempts: writers,
          }),
        ),
      );
      const e = await kvA().get("m", key);
      assert.equal(countOf(e), writers);
    });

    it("a row deleted and made again after the read: the stale write conflicts (no ABA)", async () => {
      // Before versions were random at creation, the new row started at the old row's first
      // version again, so the stale compare-and-set matched it and overwrote it.
      for (const remake of ["put", "create"] as const) {
        const key = fresh();
        const old = await kvA().put("m", key, { n: 1 });
        assert.equal(await kvB().delete("m", key), true);
        const made = await kvB().put(
          "m",
          key,
          { n: 100 },
          remake === "put" ? {} : { expectedVersion: 0 },
        );
        assert.notEqual(made.version, old.version, remake);
        await rejectsCode(
          kvA().put("m", key, { n: 2 }, { expectedVersion: old.version }),
          "VERSION_CONFLICT",
        );
        assert.deepEqual((await kvA().get("m", key))?.value, { n: 100 }, remake);
      }
    });

    it("modify racing a delete and re-create of its row: applies its change to the new row", async () => {
      const key = fresh();
      await kvA().put("m", key, { n: 1 });
      let calls = 0;
      const e = await kvA().modify("m", key, async (cur) => {
        calls++;
        // After this read the row goes and comes back, as another server would do it.
        if (calls === 1) {
          await kvB().delete("m", key);
          await kvB().put("m", key, { n: 100 });
        }
        return { n: countOf(cur) + 1 };
      });
      assert.equal(calls, 2, "the write on the old row's version missed, so modify read again");
      assert.deepEqual(e?.value, { n: 101 });
      assert.deepEqual((await kvB().get("m", key))?.value, { n: 101 });
    });

    it("a row that keeps changing: VERSION_CONFLICT after the attempts, its change never written", async () => {
      const key = fresh();
      const v1 = (await kvA().put("m", key, { n: 0 })).version;
      let calls = 0;
      const err = await rejectsCode(
        kvA().modify(
          "m",
          key,
          async (cur) => {
            calls++;
            // The other handle writes after every read, so every compare-and-set misses.
            await kvB().put("m", key, { n: 1000 + calls });
            return { n: countOf(cur) + 1, mine: true };
          },
          { attempts: 3 },
        ),
        "VERSION_CONFLICT",
      );
      assert.equal(calls, 3);
      assert.match(err.message, /gave up after 3 attempts/);
      const e = await kvA().get("m", key);
      assert.deepEqual(e?.value, { n: 1003 });
      assert.equal(e?.version, v1 + 3);
    });

    it("a change that throws writes nothing, and its error comes back as is", async () => {
      const key = fresh();
      const v1 = (await kvA().put("m", key, { n: 7 })).version;
      const boom = new Error("refused by the caller");
      await assert.rejects(
        kvA().modify("m", key, () => {
          throw boom;
        }),
        (err) => err === boom,
      );
      const absent = fresh();
      await assert.rejects(
        kvA().modify("m", absent, async () => {
          throw boom;
        }),
        (err) => err === boom,
      );
      const e = await kvA().get("m", key);
      assert.deepEqual(e?.value, { n: 7 });
      assert.equal(e?.version, v1);
      assert.equal(await kvA().get("m", absent), null);
    });

    it("bad arguments and a value the store refuses: ARGUMENT_INVALID, nothing written", async () => {
      const key = fresh();
      const v1 = (await kvA().put("m", key, { n: 1 })).version;
      let calls = 0;
      const change = () => {
        calls++;
        return { n: 2 };
      };
      for (const attempts of [0, 1.5, 101]) {
        const err = await rejectsCode(
          kvA().modify("m", key, change, { attempts }),
          "ARGUMENT_INVALID",
        );
        assert.equal(err.field, "attempts");
      }
      await rejectsCode(kvA().modify("", key, change), "ARGUMENT_INVALID");
      assert.equal(calls, 0);
      // Too big for the store: refused once, not retried as if it were a conflict.
      await rejectsCode(
        kvA().modify("m", key, () => {
          calls++;
          return { blob: "x".repeat(300 * 1024) };
        }),
        "ARGUMENT_INVALID",
      );
      assert.equal(calls, 1);
      const e = await kvA().get("m", key);
      assert.deepEqual(e?.value, { n: 1 });
      assert.equal(e?.version, v1);
    });

    it("inside a transaction it writes with the transaction and rolls back with it", async () => {
      const key = fresh();
      await kvA().put("m", key, { n: 1 });
      await assert.rejects(
        a.transaction(async (tx) => {
          const e = await tx.part("carrier:acme").kv.modify("m", key, (cur) => ({
            n: countOf(cur) + 1,
          }));
          assert.equal(countOf(e), 2);
          throw new Error("roll back");
        }),
        /roll back/,
      );
      assert.equal(countOf(await kvA().get("m", key)), 1);
      await a.transaction(async (tx) => {
        await tx.part("carrier:acme").kv.modify("m", key, (cur) => ({ n: countOf(cur) + 1 }));
      });
      assert.equal(countOf(await kvB().get("m", key)), 2);
    });
  });
}
