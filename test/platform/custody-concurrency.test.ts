// Concurrent writers of one custody record at the platform: a carrier's update, a re-deposit and
// a sync event of the same device, arriving together, all land; none is overwritten by another's
// stale read. Two platform contexts write: on PostgreSQL through two store handles (two pools, as
// two platform servers would have), on SQLite through one (concurrent requests of one server:
// two in-process SQLite handles would wait on each other's file lock inside one event loop).
// Function level, because HTTP adds nothing but timing noise to the race.
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createOemCa } from "../../src/device/index.js";
import { importRecipientPublicKey, sealDeviceKey } from "../../src/keystore/hpke-suite.js";
import { type Keystore, openSoftwareKeystore } from "../../src/keystore/index.js";
import { type PlatformContext, platformContext } from "../../src/platform/context.js";
import {
  type DepositInput,
  depositDevice,
  updateDevice,
} from "../../src/platform/custody/deposit.js";
import { applyCustodyEvent } from "../../src/platform/custody/events.js";
import { custodyNs, ensureCustody, getRecord } from "../../src/platform/custody/records.js";
import type { Store } from "../../src/store/index.js";
import { BACKENDS, type Target } from "../store/backends.js";

const CARRIER = "acme";
/** Devices raced at once per test: enough that a lost update cannot hide by luck of timing. */
const DEVICES = 12;

for (const backend of BACKENDS) {
  describe(`custody records written concurrently on ${backend.name}`, () => {
    let root: string;
    let target: Target;
    let stores: Store[];
    let ks: Keystore;
    let a: PlatformContext;
    let b: PlatformContext;
    let next = 0;
    const newImeis = () =>
      Array.from({ length: DEVICES }, () => String(353_999_200_000_000 + ++next));

    before(async () => {
      root = await mkdtemp(join(tmpdir(), "dmguard-custody-race-"));
      target = await backend.setup();
      const first = await target.open();
      stores = backend.name === "postgres" ? [first, await target.open()] : [first];
      ks = await openSoftwareKeystore({ dir: join(root, "platform-keystore") });
      const pems = [(await createOemCa({ name: "Race OEM" })).certificatePem];
      const ctxOf = (store: Store) =>
        platformContext({ store, keystore: ks, oemCaCertificatePems: pems, carriers: [CARRIER] });
      a = await ctxOf(stores[0]!);
      b = await ctxOf(stores.at(-1)!);
      await ensureCustody(a, CARRIER);
    });
    after(async () => {
      await ks?.close();
      for (const s of stores ?? []) await s.close();
      await target?.cleanup();
      if (root) await rm(root, { recursive: true, force: true });
    });

    async function depositInput(imei: string): Promise<DepositInput> {
      const kid = `k-${imei}`;
      const transport = await importRecipientPublicKey(await ks.transportPublicKey());
      return {
        model: "dmg-phone-1",
        kid,
        attestationKey: generateKeyPairSync("ec", { namedCurve: "P-256" })
          .publicKey.export({ type: "spki", format: "pem" })
          .toString(),
        contractEnd: "2030-01-31",
        wrappedKey: await sealDeviceKey(transport, `carrier:${CARRIER}`, kid, randomBytes(32)),
      };
    }

    async function deposited(): Promise<{ imei: string; input: DepositInput }[]> {
      return Promise.all(
        newImeis().map(async (imei) => {
          const input = await depositInput(imei);
          await depositDevice(a, CARRIER, imei, input);
          return { imei, input };
        }),
      );
    }

    test("a block and a contract change of one device at the same moment both land", async () => {
      const devices = await deposited();
      const answers = await Promise.all(
        devices.flatMap(({ imei }) => [
          updateDevice(a, CARRIER, imei, { status: "blocked" }),
          updateDevice(b, CARRIER, imei, { contractEnd: "2031-12-31" }),
        ]),
      );
      assert.ok(answers.every((r) => r !== null));
      for (const { imei } of devices) {
        const rec = await getRecord(b, CARRIER, imei);
        assert.deepEqual([rec?.status, rec?.contractEnd], ["blocked", "2031-12-31"], imei);
      }
    });

    test("a re-deposit racing a block never clears the block", async () => {
      const devices = await deposited();
      await Promise.all(
        devices.flatMap(({ imei, input }) => [
          depositDevice(a, CARRIER, imei, input),
          updateDevice(b, CARRIER, imei, { status: "blocked" }),
        ]),
      );
      for (const { imei } of devices) {
        assert.equal((await getRecord(a, CARRIER, imei))?.status, "blocked", imei);
      }
    });

    test("a sync event racing a carrier's update: the termination and the contract both land", async () => {
      const devices = await deposited();
      await Promise.all(
        devices.flatMap(({ imei }) => [
          applyCustodyEvent(a, CARRIER, imei, { event: "terminated", version: 1 }),
          updateDevice(b, CARRIER, imei, { contractEnd: "2032-06-30" }),
        ]),
      );
      for (const { imei } of devices) {
        const rec = await getRecord(a, CARRIER, imei);
        assert.deepEqual(
          [rec?.status, rec?.syncVersion, rec?.contractEnd],
          ["terminated", 1, "2032-06-30"],
          imei,
        );
      }
    });

    test("an update or event of a device not in custody answers null and writes nothing", async () => {
      const rows = async () => (await a.part.kv.list(custodyNs(CARRIER), { limit: 1000 })).length;
      const before = await rows();
      const [imei] = newImeis();
      assert.equal(await updateDevice(a, CARRIER, imei!, { status: "blocked" }), null);
      assert.equal(
        await applyCustodyEvent(b, CARRIER, imei!, { event: "blocked", version: 1 }),
        null,
      );
      assert.equal(await getRecord(a, CARRIER, imei!), null);
      assert.equal(await rows(), before);
    });
  });
}
