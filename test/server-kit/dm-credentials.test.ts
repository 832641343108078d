// The DM server's nonce hooks on a real SQLite store: the client's and the server's nonce, saved
// by overlapping calls, both survive (each call writes the whole account).
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { TenantKeystore } from "../../src/keystore/index.js";
import {
  clientNameFor,
  DM_ACCOUNTS_NS,
  dmAccountHooks,
  newDmAccount,
  type StoredDmAccount,
  storeDmAccount,
} from "../../src/server-kit/dm-credentials.js";
import { openStore, type Store, sqliteUrlFor } from "../../src/store/index.js";

describe("DM account nonce hooks", () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "dmguard-dmcred-"));
    store = await openStore(sqliteUrlFor(join(dir, "data")));
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("overlapping client and server nonce saves both persist", async () => {
    const part = store.part("carrier:acme");
    const imeis = Array.from({ length: 20 }, (_, i) => `35399910000${String(i).padStart(4, "0")}`);
    for (const imei of imeis) {
      await storeDmAccount(part, newDmAccount(imei, "g1", "acme-dm"), Date.now());
    }
    // saveNonce never touches the keystore: a scope without one is enough here.
    const hooks = dmAccountHooks({ part, keys: {} as TenantKeystore, now: () => Date.now() }, "dm");
    const nonce = (n: number) => new Uint8Array([n, n + 1, n + 2, n + 3]);
    await Promise.all(
      imeis.flatMap((imei, i) => [
        hooks.saveNonce(clientNameFor(imei), "client", nonce(i)),
        hooks.saveNonce(clientNameFor(imei), "server", nonce(100 + i)),
      ]),
    );
    for (const [i, imei] of imeis.entries()) {
      const acc = (await part.kv.get(DM_ACCOUNTS_NS, imei))?.value as unknown as StoredDmAccount;
      assert.equal(acc.clientNonce, Buffer.from(nonce(i)).toString("base64"), imei);
      assert.equal(acc.serverNonce, Buffer.from(nonce(100 + i)).toString("base64"), imei);
    }
  });

  test("an unknown device or a client name without an IMEI changes nothing", async () => {
    const part = store.part("carrier:acme");
    const hooks = dmAccountHooks({ part, keys: {} as TenantKeystore, now: () => Date.now() }, "dm");
    await hooks.saveNonce(clientNameFor("353999109999999"), "client", new Uint8Array([1]));
    await hooks.saveNonce("not-a-device", "server", new Uint8Array([1]));
    assert.equal(await part.kv.get(DM_ACCOUNTS_NS, "353999109999999"), null);
  });
});
