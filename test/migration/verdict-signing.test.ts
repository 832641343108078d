// A carrier signs its verdicts (activation's and migration's) while no transaction holds the
// store: on SQLite every request shares one connection, and a transaction kept open across the
// keystore's round trip stalls all of them (src/carrier/activation/judge-evidence.ts says what
// it cost). Each signature here first asks the store for a row. Inside a transaction that read
// fails at once with the test suite's store checks on (OUTSIDE_TRANSACTION), and without them it
// would wait until the transaction ends, which waits for this signature.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { VERDICT_KEY_LABEL } from "../../src/carrier/index.js";
import { migrateDevice } from "../../src/device/index.js";
import type { Keystore, TenantKeystore } from "../../src/keystore/index.js";
import type { Store } from "../../src/store/index.js";
import { activeDevice, type MigrationStack, makeMigrationStack } from "./helpers.js";

/** How long the read may take before the store counts as held. */
const HELD_MS = 1_000;

interface Signing {
  owner: string;
  label: string;
  /** What the read of the store met: "free", "held" (no answer in time), or its error code. */
  store: string;
}

/** The carriers' keystore, each signature preceded by a read of the store. */
function probing(ks: Keystore, store: Store, log: Signing[]): Keystore {
  return {
    ...ks,
    forOwner(owner: string): TenantKeystore {
      const t = ks.forOwner(owner);
      return {
        ...t,
        async signJws(label, payload, header) {
          const read = store.part("carrier:probe").devices.get("000000000000000");
          const met = await Promise.race([
            read.then(
              () => "free",
              (err: { code?: string }) => err.code ?? String(err),
            ),
            sleep(HELD_MS).then(() => "held"),
          ]);
          log.push({ owner, label, store: met });
          return t.signJws(label, payload, header);
        },
      };
    },
  };
}

describe("verdicts are signed outside the store's transactions (SQLite)", () => {
  let s: MigrationStack;
  const signings: Signing[] = [];
  before(async () => {
    s = await makeMigrationStack({ carrierKeystore: (ks, store) => probing(ks, store, signings) });
  });
  after(() => s.close());

  test("activation with acme, then migration to globex: the store answers during each", async () => {
    const { device } = await activeDevice(s, "acme");
    const r = await migrateDevice(device, { to: "carrier:globex" });
    assert.equal(r.verdict, "approved");
    await device.close();
    const verdicts = signings.filter((x) => x.label === VERDICT_KEY_LABEL);
    assert.deepEqual(
      verdicts.map((v) => v.owner),
      ["carrier:acme", "carrier:globex"],
      "one activation verdict by acme, one migration verdict by globex",
    );
    assert.deepEqual(
      verdicts.map((v) => v.store),
      ["free", "free"],
    );
  });
});
