// globex approves the migration, but the DM session that follows reaches a DM server (a real
// omadm server engine on loopback) that sends globex's key without globex's profile. The key must
// follow its carrier's profile in the package (src/device/normal/dm-migration.ts), so the device
// refuses it (PROFILE_MISSING, SyncML 400): it keeps acme's key, profile and access, no file is
// left half-written, and a retry against globex's real DM server then completes the migration.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  DEVICE_PATHS,
  type DmAccount,
  isActivationError,
  migrateDevice,
} from "../../src/device/index.js";
import { MIGRATION_KEY_URI } from "../../src/device/normal/dm-migration.js";
import { profileFromTree } from "../../src/device/normal/dm-profile.js";
import { createDmHttpHandler, fetchTransport } from "../../src/omadm/http/index.js";
import {
  type CommandResponse,
  DmServer,
  type DmServerApp,
  type DmTransport,
} from "../../src/omadm/session/index.js";
import { activeDevice, lookup, type MigrationStack, makeMigrationStack } from "./helpers.js";

/**
 * A DM server for globex's devices that has lost globex's profile: it authenticates the device
 * with the account globex issued (MD5 digest both ways, as globex's own) and sends one command,
 * the Replace of the migration key node with the key globex made for the device.
 */
class KeyWithoutProfile {
  account: DmAccount | null = null;
  wrapped: unknown = null;
  readonly responses: CommandResponse[] = [];

  app(): DmServerApp {
    return {
      findClient: (q) => {
        const a = this.account;
        if (!a || q.name !== a.client.name) return undefined;
        const side = (c: DmAccount["client"]) => ({
          name: c.name,
          secret: c.secret,
          nonce: new Uint8Array(Buffer.from(c.nonce, "base64")),
          scheme: "md5" as const,
        });
        return { client: side(a.client), server: side(a.server) };
      },
      saveNonce: (_name, role, n) => {
        const a = this.account;
        if (a)
          this.account = { ...a, [role]: { ...a[role], nonce: Buffer.from(n).toString("base64") } };
      },
      onSessionStart: () => [
        {
          kind: "Replace",
          items: [
            {
              target: { locUri: MIGRATION_KEY_URI },
              meta: { format: "chr", type: "application/json" },
              data: JSON.stringify(this.wrapped),
            },
          ],
        },
      ],
      onPackage: (_s, responses) => {
        this.responses.push(...responses);
        return [];
      },
    };
  }
}

describe("migration: a DM server that sends the key but no profile", () => {
  let s: MigrationStack;
  let server: Server;
  let rogueUrl: string;
  const rogue = new KeyWithoutProfile();

  before(async () => {
    s = await makeMigrationStack();
    const engine = new DmServer({ serverUri: "./dm", app: rogue.app(), defaultScheme: "md5" });
    server = createServer(createDmHttpHandler(engine));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    rogueUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dm`;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await s.close();
  });

  test("the device refuses the key (PROFILE_MISSING), keeps acme's state; a retry completes", async () => {
    const { device, record } = await activeDevice(s, "acme");
    const before = await device.status();
    assert.equal(before.activeCarrier, "acme");
    assert.equal(before.networkAccess, "full");
    const omadmDir = join(device.dir, "data/omadm");
    const filesBefore = (await readdir(omadmDir)).sort();
    const profileBefore = await readFile(join(device.dir, DEVICE_PATHS.profile));

    // globex's answer is real; the rogue learns the account it issued and the key it wrapped.
    const seeAnswer: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).endsWith("/carriers/globex/migration/evidence") && res.status === 200) {
        const body = (await res.clone().json()) as { decision: string; dmAccount: DmAccount };
        assert.equal(body.decision, "approved");
        rogue.account = body.dmAccount;
        const row = await s.store.part("carrier:globex").kv.get("migrations", record.imei);
        rogue.wrapped = (row!.value as { wrapped: unknown }).wrapped;
      }
      return res;
    };
    // The device's DM session goes to the rogue instead of globex's DM server.
    const http = fetchTransport();
    const toRogue: DmTransport = (req) => http({ ...req, url: rogueUrl });

    await assert.rejects(
      migrateDevice(device, { to: "carrier:globex", fetch: seeAnswer, dmTransport: toRogue }),
      (err) =>
        isActivationError(err, "KEY_DEPOSIT_FAILED") &&
        /^globex's key was not deposited: globex's profile must precede its key/.test(err.message),
    );
    const keyStatus = rogue.responses.find((r) => {
      const c = r.command as { items?: Array<{ target?: { locUri: string } }> };
      return c.items?.[0]?.target?.locUri === MIGRATION_KEY_URI;
    });
    assert.equal(keyStatus?.code, 400, "the key node answered 400 (PROFILE_MISSING)");

    // Nothing changed: acme's slot alone, acme active with full access, acme's profile, on disk
    // and in the DM tree; no staged migration left behind.
    assert.deepEqual(await device.status(), before);
    assert.deepEqual((await readdir(omadmDir)).sort(), filesBefore);
    assert.deepEqual(await readFile(join(device.dir, DEVICE_PATHS.profile)), profileBefore);
    const tree = (await device.dmClient()).tree;
    assert.equal(profileFromTree(tree)?.carrier, "acme");
    assert.equal(tree.exists(MIGRATION_KEY_URI), false);
    // globex never heard back about its key: the device is not in its inventory.
    assert.equal((await lookup(s, "globex", record.imei)).status, 404);

    // globex's real DM server hands over the same key, after its profile: the migration completes.
    const r = await migrateDevice(device, { to: "carrier:globex" });
    assert.equal(r.verdict, "approved");
    assert.equal(r.slot?.kid, (rogue.wrapped as { kid: string }).kid);
    assert.equal(r.slot?.alreadyPresent, false);
    const done = await device.status();
    assert.equal(done.activeCarrier, "globex");
    assert.deepEqual(done.slots[0], before.slots[0]);
    assert.equal((done.profile as { carrier: string }).carrier, "globex");
    await device.close();
  });
});
