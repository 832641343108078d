// Carrier A's key stays A's: after a migration to B, A's slot key (the raw bytes the test made
// at manufacture) appears nowhere in the stores (the one SQLite file all parts share), the
// keystores' files, the servers' log, nor any HTTP message of the flow.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { migrateDevice } from "../../src/device/index.js";
import {
  activeDevice,
  type MigrationStack,
  makeMigrationStack,
  migrationDelivered,
} from "./helpers.js";

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

function forms(key: Uint8Array): string[] {
  const b = Buffer.from(key);
  return [
    b.toString("hex"),
    b.toString("hex").toUpperCase(),
    b.toString("base64"),
    b.toString("base64url"),
  ];
}

describe("migration: A's key stays confidential", () => {
  let s: MigrationStack;
  before(async () => {
    s = await makeMigrationStack({ recordWire: true });
  });
  after(() => s.close());

  test("A's key bytes are in no database, keystore file or HTTP message of the flow", async () => {
    const { device, slotKey } = await activeDevice(s, "acme");
    const start = s.wire.length;
    const r = await migrateDevice(device, { to: "carrier:globex" });
    assert.equal(r.verdict, "approved");
    await device.close();
    // The custody deposit and the notice to acme go in the background: wait for them.
    await migrationDelivered(s);
    const messages = s.wire.slice(start);
    // The flow was recorded: nonce, evidence, the platform question, DM packages, the notice.
    assert.ok(messages.some((m) => m.includes("migrateTo") || m.includes("evidence")));
    assert.ok(messages.some((m) => m.includes("Migration/WrappedKey")));
    assert.ok(messages.length >= 8, `only ${messages.length} messages recorded`);
    const needles = forms(slotKey);
    for (const m of messages) {
      assert.ok(!Buffer.from(m, "latin1").includes(Buffer.from(slotKey)), "raw key on the wire");
      for (const n of needles) assert.ok(!m.includes(n), "A's key on the wire");
    }
    // The servers' log of the flow.
    assert.ok(s.logs.length > 0, "the app logged the flow");
    const log = s.logs.join("");
    for (const n of needles) assert.ok(!log.includes(n), "A's key in the log");
    // The SQLite store (every part's rows, B's migration row and audit log included) and the
    // keystores: neither the raw bytes nor a text form.
    const files = [
      ...(await filesUnder(s.dataDir)),
      ...(await filesUnder(s.platformKeystoreDir)),
      // The carriers' keystore holds A's key sealed under A's KEK: never readable either.
      ...(await filesUnder(s.carrierKeystoreDir)),
    ];
    assert.ok(files.length > 0);
    for (const f of files) {
      const bytes = await readFile(f);
      assert.ok(bytes.indexOf(Buffer.from(slotKey)) < 0, `${f} holds A's raw key`);
      const text = bytes.toString("latin1");
      for (const n of needles) assert.ok(!text.includes(n), `${f} holds A's key as text`);
    }
  });
});
