import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { runCli } from "../support/cli.js";
import { manufacture, oneLine, startUp, tempDir } from "./stack-support.js";

describe("dmguard audit verify", () => {
  let data: Awaited<ReturnType<typeof tempDir>>;
  let devices: Awaited<ReturnType<typeof tempDir>>;
  const verify = (...args: string[]) => runCli(["audit", "verify", "--stack", data.path, ...args]);

  before(async () => {
    data = await tempDir("audit");
    devices = await tempDir("audit-dev");
    const up = await startUp(["--data", data.path]);
    try {
      // Each part's log starts with its admin token's issue (token-issued, at the first start);
      // each manufacture appends slot-key-issued and inventory-import to its carrier's log.
      const [a] = await Promise.all([
        manufacture(data.path, join(devices.path, "a"), ["--carrier", "acme"]),
        manufacture(data.path, join(devices.path, "g"), ["--carrier", "globex"]),
      ]);
      const r = await runCli([
        "carrier",
        "block",
        a.imei,
        "--stack",
        data.path,
        "--carrier",
        "acme",
      ]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      await up.stop();
    }
  });
  after(async () => {
    await data.remove();
    await devices.remove();
  });

  const tamper = (sql: string, ...params: unknown[]) => {
    const db = new Database(join(data.path, "dmguard.sqlite"));
    try {
      assert.equal(db.prepare(sql).run(...params).changes, 1);
    } finally {
      db.close();
    }
  };

  test("intact logs: exit 0, every part listed (the stack need not run)", async () => {
    const r = await verify();
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.toString();
    assert.match(out, /^carrier:acme\s+intact\s+4 entries/m);
    assert.match(out, /^carrier:globex\s+intact\s+3 entries/m);
    assert.match(out, /^enterprise:initech\s+intact\s+1 entries/m);
    assert.match(out, /^platform\s+intact\s+\d+ entries/m);
    const j = await verify("--part", "carrier:acme", "--json");
    assert.equal(j.code, 0, j.stderr);
    const doc = JSON.parse(j.stdout.toString());
    assert.equal(doc.parts.length, 1);
    assert.equal(doc.parts[0].part, "carrier:acme");
    assert.equal(doc.parts[0].ok, true);
  });

  test("each part's log starts with its admin token's issue, naming the token but not its value", () => {
    const db = new Database(join(data.path, "dmguard.sqlite"), { readonly: true });
    try {
      const first = db
        .prepare("SELECT part, action, subject, details FROM audit_log WHERE seq = 1 ORDER BY part")
        .all() as Array<{ part: string; action: string; subject: string; details: string }>;
      assert.deepEqual(
        first.map((e) => [e.part, e.action]),
        ["carrier:acme", "carrier:globex", "enterprise:initech", "platform"].map((p) => [
          p,
          "token-issued",
        ]),
      );
      const tokens = db.prepare("SELECT part, id FROM tokens").all() as Array<{
        part: string;
        id: string;
      }>;
      for (const e of first) {
        assert.ok(
          tokens.some((t) => t.part === e.part && t.id === e.subject),
          e.part,
        );
        assert.doesNotMatch(e.details, /dmg_/, "no token value in the audit log");
      }
    } finally {
      db.close();
    }
  });

  test("--db naming a database without a dmguard store: exit 1, one line, nothing made there", async () => {
    const empty = join(devices.path, "empty.sqlite");
    new Database(empty).close();
    const r = await verify("--db", `sqlite:${empty}`);
    assert.equal(r.code, 1);
    assert.equal(oneLine(r.stderr), `dmguard: sqlite:${empty} holds no dmguard store`);
    const db = new Database(empty, { readonly: true });
    try {
      assert.deepEqual(db.prepare("select name from sqlite_master").all(), []);
    } finally {
      db.close();
    }
  });

  test("--part of a part the stack does not have: exit 1 naming the stack's parts", async () => {
    const r = await verify("--part", "carrier:nope");
    assert.equal(r.code, 1);
    assert.equal(
      oneLine(r.stderr),
      `dmguard: no part carrier:nope in the stack in ${data.path} (its parts: carrier:acme, carrier:globex, platform, enterprise:initech)`,
    );
    assert.equal(r.stdout.length, 0);
  });

  test("an edited row: exit 1, one line naming the entry; other parts unaffected", async () => {
    tamper(
      "UPDATE audit_log SET details = ? WHERE part = ? AND seq = ?",
      '{"note":"nothing happened here"}',
      "carrier:acme",
      2,
    );
    const r = await verify();
    assert.equal(r.code, 1);
    assert.equal(
      oneLine(r.stderr),
      "dmguard: audit log of carrier:acme: entry 2 was altered (entries before it are intact)",
    );
    assert.match(r.stdout.toString(), /^carrier:globex\s+intact/m);
    assert.equal((await verify("--part", "carrier:globex")).code, 0);
  });

  test("a removed row: exit 1 naming it", async () => {
    tamper("DELETE FROM audit_log WHERE part = ? AND seq = ?", "carrier:globex", 1);
    const r = await verify("--part", "carrier:globex");
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /carrier:globex: entry 1 was removed/);
  });

  test("a part's whole log removed, head and all: exit 1, its first entry removed", async () => {
    const db = new Database(join(data.path, "dmguard.sqlite"));
    try {
      db.prepare("DELETE FROM audit_log WHERE part = ?").run("enterprise:initech");
      db.prepare("DELETE FROM audit_head WHERE part = ?").run("enterprise:initech");
    } finally {
      db.close();
    }
    const r = await verify("--part", "enterprise:initech");
    assert.equal(r.code, 1);
    assert.equal(
      oneLine(r.stderr),
      "dmguard: audit log of enterprise:initech: entry 1 was removed (entries before it are intact)",
    );
    // Listed with the others too, though no row names it any more.
    const j = await verify("--json");
    assert.equal(j.code, 1);
    const initech = JSON.parse(j.stdout.toString()).parts.find(
      (p: { part: string }) => p.part === "enterprise:initech",
    );
    assert.deepEqual(initech, {
      part: "enterprise:initech",
      ok: false,
      entries: 0,
      firstBadSeq: 1,
      problem: "removed",
    });
  });

  test("the next start opens a log for a part that has none", async () => {
    const up = await startUp(["--data", data.path]);
    await up.stop();
    const j = await verify("--part", "enterprise:initech", "--json");
    assert.equal(j.code, 0, j.stderr);
    const db = new Database(join(data.path, "dmguard.sqlite"), { readonly: true });
    try {
      assert.deepEqual(
        db
          .prepare("SELECT seq, action FROM audit_log WHERE part = ? ORDER BY seq")
          .all("enterprise:initech"),
        [{ seq: 1, action: "audit-log-opened" }],
      );
    } finally {
      db.close();
    }
  });
});
