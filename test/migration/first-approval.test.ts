// The old carrier answering a migration question itself under a days-after-activation policy:
// the activation date is its first approval however many verdicts the device has had since, and
// whether or not the carrier has a platform sync.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ACTIVATED_NS } from "../../src/carrier/platform-sync/outbox.js";
import {
  activeDevice,
  type MadeDevice,
  type MigrationStack,
  makeMigrationStack,
} from "./helpers.js";

const DAY_MS = 86_400_000;
/** More verdicts after the first approval than a read of the newest 1,000 would reach past. */
const LATER_VERDICTS = 1_001;

describe("first approval under days-after-activation:60, asked directly", () => {
  let s: MigrationStack;
  before(async () => {
    s = await makeMigrationStack({
      direct: true,
      acmePolicy: { subsidyLock: "days-after-activation:60" },
    });
  });
  after(() => s.close());

  /**
   * Records, straight in acme's store, a first approval `firstAgoMs` ago and LATER_VERDICTS
   * approvals since (re-activations after factory resets), all older than the real activation.
   */
  async function history(imei: string, firstAgoMs: number): Promise<void> {
    const now = Date.now();
    const first = now - firstAgoMs;
    await s.store.part("carrier:acme").transaction(async (tx) => {
      const record = (n: number, at: number) =>
        tx.verdicts.record(
          {
            nonce: `history-${imei}-${n}`,
            imei,
            verdict: "approved",
            reasons: [],
            evidenceHash: `h${n}`,
          },
          at,
        );
      await record(0, first);
      for (let i = 1; i <= LATER_VERDICTS; i++) await record(i, first + DAY_MS + i * 60_000);
    });
  }

  /** acme's answer to globex's question about the device (globex's nonce, acme's key). */
  async function ask(made: MadeDevice): Promise<Record<string, unknown>> {
    const n = await s.call("/carriers/globex/migration/nonce", { json: {} });
    const { nonce } = (await n.json()) as { nonce: string };
    const { evidence } = await made.device.verify(nonce, { carrier: "acme", migrateTo: "globex" });
    const r = await s.call("/carriers/acme/migration/questions", {
      json: { evidence },
      token: s.peerToken,
    });
    assert.equal(r.status, 200);
    return (await r.json()) as Record<string, unknown>;
  }

  test("first approved 61 days ago, over 1,000 approvals since: not locked", async () => {
    const made = await activeDevice(s, "acme");
    await history(made.record.imei, 61 * DAY_MS);
    const answer = await ask(made);
    assert.deepEqual(
      [answer.genuine, answer.subsidyLocked, answer.reasons],
      [true, false, []],
      JSON.stringify(answer),
    );
    await made.device.close();
  });

  test("first approved 59 days ago, over 1,000 approvals since: still locked", async () => {
    const made = await activeDevice(s, "acme");
    await history(made.record.imei, 59 * DAY_MS);
    const answer = await ask(made);
    assert.deepEqual([answer.subsidyLocked, answer.reasons], [true, ["SUBSIDY_LOCKED"]]);
    await made.device.close();
  });

  test("a platform sync's later activation entry does not move the first approval", async () => {
    const made = await activeDevice(s, "acme");
    await history(made.record.imei, 61 * DAY_MS);
    // As a sync switched on after the first approval records it: at the next approval.
    const at = Date.now();
    await s.store
      .part("carrier:acme")
      .kv.put(ACTIVATED_NS, made.record.imei, { at: new Date(at).toISOString() }, { now: at });
    const answer = await ask(made);
    assert.deepEqual([answer.subsidyLocked, answer.reasons], [false, []]);
    await made.device.close();
  });
});
