/**
 * The store suite, run on every backend (SQLite in a temp dir, PostgreSQL in a fresh schema).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type ConsumeResult,
  canonicalJson,
  type InventoryInput,
  isStoreError,
  openStore,
  redactUrl,
  type Store,
} from "../../src/store/index.js";
import {
  BACKENDS,
  frozenClock,
  type Peer,
  rejectsCode,
  startPeer,
  type Target,
} from "./backends.js";

const imei = (i: number) => String(350_000_000_000_000 + i);
const meid = (i: number) => `A0${(0x100000000000 + i).toString(16).toUpperCase()}`;

function device(i: number, extra: Partial<InventoryInput> = {}): InventoryInput {
  return {
    imei: imei(i),
    meid: i % 2 === 0 ? meid(i) : null,
    esn: i % 2 === 0 ? `80${(i % 0xffffff).toString(16).padStart(6, "0")}` : null,
    model: "dmg-phone-1",
    kid: `acme-k${i % 4}`,
    attestationThumbprint: `tp-${i}`,
    contractEnd: "2030-01-31",
    userGroup: "worker",
    ...extra,
  };
}

for (const backend of BACKENDS) {
  describe(`store on ${backend.name}`, () => {
    let target: Target;
    let store: Store;
    let peer: Peer;
    const clock = frozenClock();

    before(async () => {
      target = await backend.setup();
      store = await target.open({ now: clock.now });
      peer = startPeer(target);
    });
    after(async () => {
      await peer?.close();
      await store?.close();
      await target?.cleanup();
    });

    describe("migrations", () => {
      it("run from empty, then re-run as a no-op", async () => {
        const fresh = await backend.setup();
        try {
          const s = await fresh.open({ migrate: false });
          assert.deepEqual(
            (await s.migrations()).map((m) => [m.name, m.executedAt]),
            [
              ["0001_initial", null],
              ["0002_sqlite_without_rowid", null],
            ],
          );
          assert.deepEqual(await s.migrate(), ["0001_initial", "0002_sqlite_without_rowid"]);
          assert.deepEqual(await s.migrate(), []);
          await s.close();
          const again = await fresh.open();
          const status = await again.migrations();
          assert.equal(status.length, 2);
          assert.ok(status.every((m) => m.executedAt instanceof Date));
          assert.equal(await again.part("carrier:acme").inventory.count(), 0);
          await again.close();
        } finally {
          await fresh.cleanup();
        }
      });

      it("a database a newer dmguard migrated is refused by name, and left as it is", async () => {
        const fresh = await backend.setup();
        try {
          await (await fresh.open()).close();
          await fresh.raw("insert into kysely_migration (name, timestamp) values ($1, $2)", [
            "0099_from_the_future",
            new Date().toISOString(),
          ]);
          const err = await rejectsCode(fresh.open(), "MIGRATION_FAILED");
          assert.match(
            err.message,
            /^the database was migrated by a newer dmguard \(it has 0099_from_the_future, which this version does not know\)/,
          );
          const rows = await fresh.raw("select name from kysely_migration order by name");
          assert.equal(rows.length, 3);
        } finally {
          await fresh.cleanup();
        }
      });
    });

    describe("inventory", () => {
      const acme = () => store.part("carrier:acme");

      it("imports and looks up by imei, meid and esn", async () => {
        const rows = Array.from({ length: 10 }, (_, i) => device(i));
        assert.deepEqual(await acme().inventory.import(rows), { inserted: 10, updated: 0 });
        const r = await acme().inventory.get(imei(4));
        assert.equal(r?.meid, meid(4));
        assert.equal(r?.status, "active");
        assert.equal(r?.contractEnd, "2030-01-31");
        assert.equal(r?.createdAt, clock.now());
        assert.equal((await acme().inventory.findByMeid(meid(6)))?.imei, imei(6));
        const esn = rows[8]?.esn as string;
        assert.deepEqual(
          (await acme().inventory.findByEsn(esn)).map((x) => x.imei),
          [imei(8)],
        );
        assert.equal(await acme().inventory.get(imei(999)), null);
        assert.equal(await acme().inventory.count(), 10);
        const page = await acme().inventory.list({ after: imei(6), limit: 2 });
        assert.deepEqual(
          page.map((x) => x.imei),
          [imei(7), imei(8)],
        );
      });

      it("keeps parts apart", async () => {
        const globex = store.part("carrier:globex");
        await globex.inventory.put(device(4, { kid: "globex-k" }));
        assert.equal((await globex.inventory.get(imei(4)))?.kid, "globex-k");
        assert.equal((await acme().inventory.get(imei(4)))?.kid, "acme-k0");
        assert.equal(await globex.inventory.get(imei(5)), null);
        assert.equal(await globex.inventory.count(), 1);
      });

      it("applies nothing when one row is bad", async () => {
        const before = await acme().inventory.count();
        const rows = [device(100), device(101), { ...device(102), status: "stolen" }, device(103)];
        const err = await rejectsCode(
          acme().inventory.import(rows as InventoryInput[]),
          "ROW_INVALID",
        );
        assert.equal(err.index, 2);
        assert.equal(err.field, "status");
        assert.equal(await acme().inventory.count(), before);
        assert.equal(await acme().inventory.get(imei(100)), null);
      });

      it("the same upsert twice at once: both succeed, the later one as updates", async () => {
        const rows = Array.from({ length: 300 }, (_, i) => device(5_000 + i));
        const results = await Promise.all([
          acme().inventory.import(rows, { mode: "upsert" }),
          acme().inventory.import(rows, { mode: "upsert" }),
        ]);
        assert.deepEqual(results.map((r) => [r.inserted, r.updated]).sort(), [
          [0, 300],
          [300, 0],
        ]);
        assert.equal((await acme().inventory.get(imei(5_298)))?.meid, meid(5_298));
      });

      it("the same insert twice at once: one succeeds, the other names the IMEI", async () => {
        // Without MEIDs (odd numbers), so that the IMEI is the only key the rows share.
        const rows = Array.from({ length: 300 }, (_, i) => device(6_001 + 2 * i));
        const results = await Promise.allSettled([
          acme().inventory.import(rows),
          acme().inventory.import(rows),
        ]);
        const ok = results.filter((r) => r.status === "fulfilled");
        const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
        assert.equal(ok.length, 1);
        assert.equal(refused.length, 1);
        assert.ok(isStoreError(refused[0], "ROW_INVALID"), String(refused[0]));
        assert.equal(refused[0].field, "imei");
        assert.equal(refused[0].index, 0);
      });

      it("applies nothing when a row conflicts with the database", async () => {
        const before = await acme().inventory.count();
        // New rows first, then an IMEI that is already stored: the new ones must roll back.
        const dupImei = await rejectsCode(
          acme().inventory.import([device(200), device(201), device(3)]),
          "ROW_INVALID",
        );
        assert.equal(dupImei.index, 2);
        // An IMEI that is new but whose MEID another device has (upsert).
        const dupMeid = await rejectsCode(
          acme().inventory.import([device(202), device(204, { meid: meid(2) })], {
            mode: "upsert",
          }),
          "ROW_INVALID",
        );
        assert.equal(dupMeid.index, 1);
        // Repeats inside the input.
        const twice = await rejectsCode(
          acme().inventory.import([device(206), device(207), device(206)]),
          "ROW_INVALID",
        );
        assert.equal(twice.index, 2);
        assert.equal(await acme().inventory.count(), before);
        for (const i of [200, 201, 202, 204, 206, 207]) {
          assert.equal(await acme().inventory.get(imei(i)), null);
        }
      });

      it("applies nothing when the caller's transaction fails after an import", async () => {
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.part("carrier:acme").inventory.import([device(300), device(301)]);
            throw new Error("boom");
          }),
          /boom/,
        );
        assert.equal(await acme().inventory.get(imei(300)), null);
      });

      it("upserts without unblocking a blocked device", async () => {
        await acme().inventory.setStatus(imei(1), "blocked");
        clock.advance(1000);
        const r = await acme().inventory.import([device(1, { kid: "acme-new" }), device(400)], {
          mode: "upsert",
        });
        assert.deepEqual(r, { inserted: 1, updated: 1 });
        const one = await acme().inventory.get(imei(1));
        assert.equal(one?.status, "blocked");
        assert.equal(one?.kid, "acme-new");
        assert.equal(one?.updatedAt, clock.now());
        assert.ok((one?.createdAt ?? 0) < clock.now());
        await acme().inventory.import([device(1, { status: "active" })], { mode: "upsert" });
        assert.equal((await acme().inventory.get(imei(1)))?.status, "active");
        assert.equal(await acme().inventory.setStatus(imei(9999), "blocked"), null);
      });

      it("bulk-imports 20,000 rows in one go", async () => {
        const part = store.part("carrier:bulk");
        const rows = Array.from({ length: 20_000 }, (_, i) => device(10_000 + i));
        const t0 = performance.now();
        assert.deepEqual(await part.inventory.import(rows), { inserted: 20_000, updated: 0 });
        const ms = performance.now() - t0;
        assert.ok(ms < 5000, `20k rows took ${ms.toFixed(0)} ms`);
        assert.equal(await part.inventory.count(), 20_000);
        assert.equal((await part.inventory.findByMeid(meid(10_000 + 19_998)))?.imei, imei(29_998));
      });
    });

    describe("device activation state", () => {
      const part = () => store.part("carrier:acme");

      it("creates once and updates with optimistic concurrency", async () => {
        const d = await part().devices.create({
          imei: imei(1),
          state: "pending",
          attestationThumbprint: "tp-1",
        });
        assert.equal(d.version, 1);
        await rejectsCode(
          part().devices.create({ imei: imei(1), state: "pending" }),
          "ALREADY_EXISTS",
        );
        const approved = await part().devices.update(
          imei(1),
          { state: "approved", profile: { plmn: ["310260"], group: "worker" } },
          { expectedVersion: 1 },
        );
        assert.equal(approved.version, 2);
        assert.equal(approved.attestationThumbprint, "tp-1");
        assert.equal(Object.hasOwn(approved, "profile"), false);
        assert.deepEqual((await part().devices.get(imei(1)))?.profile, {
          group: "worker",
          plmn: ["310260"],
        });
        await rejectsCode(
          part().devices.update(imei(1), { state: "denied" }, { expectedVersion: 1 }),
          "VERSION_CONFLICT",
        );
        await rejectsCode(part().devices.update(imei(77), { state: "denied" }), "NOT_FOUND");
        assert.equal((await part().devices.get(imei(1)))?.state, "approved");
        assert.equal(await part().devices.count("approved"), 1);
      });

      it("reads a device's state alone, without its profile", async () => {
        const profile = { group: "executive", plmn: ["310260", "310410"], prl: { v: 7 } };
        await part().devices.create({ imei: imei(30), state: "approved", profile });
        const { profile: stored, ...rest } = (await part().devices.get(imei(30)))!;
        assert.deepEqual(stored, profile);
        const status = await part().devices.status(imei(30));
        assert.deepEqual(status, rest);
        assert.equal(Object.hasOwn(status!, "profile"), false);
        const moved = await part().devices.update(imei(30), { state: "provisioned" });
        assert.deepEqual(await part().devices.status(imei(30)), moved);
        assert.equal(moved.state, "provisioned");
        assert.deepEqual((await part().devices.get(imei(30)))?.profile, profile);
        assert.equal(await part().devices.status(imei(31)), null);
        await rejectsCode(part().devices.status("x".repeat(40)), "ARGUMENT_INVALID");
      });

      it("lets exactly one of two racing first activations create the state", async () => {
        const results = await Promise.allSettled([
          part().devices.create({ imei: imei(2), state: "pending", attestationThumbprint: "a" }),
          part().devices.create({ imei: imei(2), state: "pending", attestationThumbprint: "b" }),
        ]);
        assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
        const lost = results.find((r) => r.status === "rejected");
        assert.ok(isStoreError(lost?.reason, "ALREADY_EXISTS"));
      });

      it("leaves no half-state when an activation fails midway", async () => {
        await assert.rejects(
          part().transaction(async (tx) => {
            await tx.devices.create({ imei: imei(3), state: "approved" });
            await tx.access.set(imei(3), "full");
            await tx.verdicts.record({
              nonce: "n-half",
              imei: imei(3),
              verdict: "approved",
              reasons: [],
              evidenceHash: "e",
            });
            await tx.audit.append({ actor: "carrier", action: "verdict", subject: imei(3) });
            throw new Error("crash before the DM session");
          }),
          /crash/,
        );
        assert.equal(await part().devices.get(imei(3)), null);
        assert.equal(await part().access.get(imei(3)), null);
        assert.equal(await part().verdicts.byNonce("n-half"), null);
        assert.equal((await part().audit.head()).seq, 0);
      });

      it("refuses the outer handle inside a transaction", async () => {
        await rejectsCode(
          store.transaction(async () => {
            await part().devices.get(imei(1));
          }),
          "OUTSIDE_TRANSACTION",
        );
        // Savepoints: the inner failure rolls back only the inner work.
        await part().transaction(async (tx) => {
          await tx.kv.put("cfg", "outer", 1);
          await assert.rejects(
            tx.transaction(async (inner) => {
              await inner.kv.put("cfg", "inner", 2);
              throw new Error("inner");
            }),
            /inner/,
          );
        });
        assert.equal((await part().kv.get("cfg", "outer"))?.value, 1);
        assert.equal(await part().kv.get("cfg", "inner"), null);
      });
    });

    describe("nonces", () => {
      const part = () => store.part("carrier:acme");

      it("are single use", async () => {
        const n = await part().nonces.issue({ ttlMs: 60_000, subject: imei(1) });
        assert.match(n.nonce, /^[A-Za-z0-9_-]{43}$/);
        // A peek tells what a consume would answer, and consumes nothing.
        assert.equal(await part().nonces.peek(n.nonce), "ok");
        assert.equal(await part().nonces.peek(n.nonce), "ok");
        const first = await part().nonces.consume(n.nonce);
        assert.equal(first.status, "ok");
        assert.equal(first.status === "ok" && first.nonce.subject, imei(1));
        assert.deepEqual(await part().nonces.consume(n.nonce), { status: "replayed" });
        assert.equal(await part().nonces.peek(n.nonce), "replayed");
        assert.equal(await part().nonces.peek("never-issued"), "unknown");
        assert.equal(await part().nonces.peek("x".repeat(5000)), "unknown");
        const late = await part().nonces.issue({ ttlMs: 1_000, now: clock.now() });
        assert.equal(await part().nonces.peek(late.nonce, clock.now() + 1_000), "expired");
        assert.equal(await part().nonces.peek(late.nonce, clock.now() + 999), "ok");
        assert.deepEqual(await part().nonces.consume("never-issued"), { status: "unknown" });
        assert.deepEqual(await part().nonces.consume("x".repeat(5000)), { status: "unknown" });
        // Another part cannot consume it.
        const other = await part().nonces.issue({ ttlMs: 60_000 });
        assert.deepEqual(await store.part("carrier:globex").nonces.consume(other.nonce), {
          status: "unknown",
        });
      });

      it("let exactly one of many concurrent consumers win, across connections", async () => {
        // In this thread: 4 consumers per nonce on one handle, 4 on a second store; in a
        // worker thread, with its own connection: one more per nonce. One winner each.
        const second = await target.open({ now: clock.now });
        try {
          const nonces: string[] = [];
          for (let i = 0; i < 30; i++)
            nonces.push((await part().nonces.issue({ ttlMs: 60_000 })).nonce);
          const [mine, theirs] = await peer.race<ConsumeResult[][], string[]>(
            { op: "consume", part: "carrier:acme", now: clock.now(), nonces },
            () =>
              Promise.all(
                nonces.map((n) =>
                  Promise.all([
                    ...Array.from({ length: 4 }, () => part().nonces.consume(n)),
                    ...Array.from({ length: 4 }, () =>
                      second.part("carrier:acme").nonces.consume(n),
                    ),
                  ]),
                ),
              ),
          );
          nonces.forEach((n, i) => {
            const all = [...(mine[i] ?? []).map((r) => r.status), theirs[i]];
            assert.equal(all.filter((s) => s === "ok").length, 1, `${n}: ${all.join(",")}`);
            assert.ok(all.every((s) => s === "ok" || s === "replayed"));
          });
        } finally {
          await second.close();
        }
      });

      it("expire (frozen clock)", async () => {
        const n = await part().nonces.issue({ ttlMs: 30_000 });
        assert.equal(n.expiresAt, clock.now() + 30_000);
        clock.advance(30_000);
        assert.deepEqual(await part().nonces.consume(n.nonce), { status: "expired" });
        const m = await part().nonces.issue({ ttlMs: 30_000 });
        clock.advance(29_999);
        assert.equal((await part().nonces.consume(m.nonce)).status, "ok");
        await rejectsCode(part().nonces.issue({ ttlMs: 0 }), "ARGUMENT_INVALID");
      });

      it("are swept: expired and consumed rows are freed", async () => {
        const p = store.part("carrier:sweep");
        const issued: string[] = [];
        for (let i = 0; i < 6; i++) issued.push((await p.nonces.issue({ ttlMs: 10_000 })).nonce);
        await p.nonces.consume(issued[0] as string);
        await p.nonces.consume(issued[1] as string);
        assert.equal(await p.nonces.count(), 6);
        assert.equal(await p.nonces.sweep(), 0);
        clock.advance(1000);
        // Consumed ones older than 500 ms can go early; the replay window is the caller's call.
        assert.equal(await p.nonces.sweep(undefined, { consumedOlderThanMs: 500 }), 2);
        assert.equal(await p.nonces.count(), 4);
        clock.advance(10_000);
        assert.equal(await p.nonces.sweep(), 4);
        assert.equal(await p.nonces.count(), 0);
      });
    });

    describe("network access permission list", () => {
      it("sets, gets, lists and removes", async () => {
        const p = store.part("carrier:acme");
        await p.access.set(imei(1), "full");
        await p.access.set(imei(2), "limited");
        await p.access.set(imei(2), "full");
        await p.access.set(imei(5), "limited");
        assert.equal((await p.access.get(imei(2)))?.access, "full");
        assert.equal(await p.access.count(), 3);
        assert.equal(await p.access.count("full"), 2);
        assert.deepEqual(
          (await p.access.list({ access: "limited" })).map((e) => e.imei),
          [imei(5)],
        );
        assert.equal(await p.access.remove(imei(1)), true);
        assert.equal(await p.access.remove(imei(1)), false);
        assert.equal(await p.access.get(imei(1)), null);
        assert.equal(await store.part("carrier:globex").access.get(imei(2)), null);
        await rejectsCode(p.access.set(imei(1), "partial" as "full"), "ARGUMENT_INVALID");
      });
    });

    describe("verdicts", () => {
      it("are recorded once per nonce; a retry is idempotent", async () => {
        const p = store.part("carrier:acme");
        const first = await p.verdicts.record({
          nonce: "nonce-v1",
          imei: imei(1),
          verdict: "denied",
          reasons: ["PAYLOAD_CRC", "ROOT_SU"],
          evidenceHash: "ab".repeat(32),
          signed: "eyJ.a.b",
        });
        assert.equal(first.created, true);
        const retry = await p.verdicts.record({
          nonce: "nonce-v1",
          imei: imei(1),
          verdict: "approved",
          reasons: [],
          evidenceHash: "cd".repeat(32),
        });
        assert.equal(retry.created, false);
        assert.deepEqual(retry.verdict, first.verdict);
        assert.deepEqual(retry.verdict.reasons, ["PAYLOAD_CRC", "ROOT_SU"]);
        assert.deepEqual(await p.verdicts.get(first.verdict.id), first.verdict);
        const racing = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            p.verdicts.record({
              nonce: "nonce-v2",
              imei: imei(2),
              verdict: "approved",
              reasons: [],
              evidenceHash: `h${i}`,
            }),
          ),
        );
        assert.equal(racing.filter((r) => r.created).length, 1);
        assert.equal(new Set(racing.map((r) => r.verdict.id)).size, 1);
        assert.equal((await p.verdicts.forImei(imei(1)))[0]?.id, first.verdict.id);
        assert.equal(await p.verdicts.count("denied"), 1);
      });
    });

    describe("audit log", () => {
      async function fill(part: string, n: number) {
        const p = store.part(part);
        for (let i = 1; i <= n; i++) {
          clock.advance(1);
          await p.audit.append({
            actor: "carrier:acme",
            action: "verdict",
            subject: imei(i),
            details: { verdict: i % 2 ? "approved" : "denied", reasons: ["X"], n: i },
          });
        }
        return p;
      }

      it("hashes at append what verify recomputes, whatever the text holds", async () => {
        // append writes the canonical text around details it already holds; verify parses and
        // encodes again: both must give the same hash for awkward subjects and details.
        const p = store.part("audit:text");
        // Names refuse control characters; details may hold anything JSON can.
        const odd = ['q"uote\\', "ünï\u2028cødé", "\u{1F600}/<>&", "x"];
        const raw = ["tab\tnl\n\u0000", "\ud800", ""];
        for (const [i, text] of odd.entries()) {
          clock.advance(1);
          await p.audit.append({
            actor: `carrier:${text}`,
            action: text,
            subject: i % 2 === 0 ? null : text,
            details: { [raw[i % 3]!]: [text, i, -0.5, { z: null, a: true }], n: i * 1e21 },
          });
        }
        assert.deepEqual(await p.audit.verify(), {
          ok: true,
          entries: odd.length,
          head: (await p.audit.head()).hash,
        });
        // The chain's format (audit.ts): SHA-256 of the canonical JSON of the whole envelope.
        for (const e of await p.audit.list()) {
          const envelope = {
            v: 1,
            part: e.part,
            ts: e.ts,
            actor: e.actor,
            action: e.action,
            subject: e.subject,
            details: e.details,
            prevHash: e.prevHash,
          };
          assert.equal(e.hash, createHash("sha256").update(canonicalJson(envelope)).digest("hex"));
        }
      });

      it("chains entries and verifies", async () => {
        const p = await fill("audit:ok", 5);
        const entries = await p.audit.list();
        assert.deepEqual(
          entries.map((e) => e.seq),
          [1, 2, 3, 4, 5],
        );
        assert.equal(entries[0]?.prevHash, "0".repeat(64));
        for (let i = 1; i < entries.length; i++) {
          assert.equal(entries[i]?.prevHash, entries[i - 1]?.hash);
        }
        assert.deepEqual(await p.audit.verify(), {
          ok: true,
          entries: 5,
          head: entries[4]?.hash,
        });
        assert.deepEqual(await store.verifyAudit("audit:empty"), {
          ok: true,
          entries: 0,
          head: "0".repeat(64),
        });
        assert.ok((await store.auditParts()).includes("audit:ok"));
      });

      it("detects an edited row", async () => {
        await fill("audit:edit", 5);
        await target.raw(
          `update audit_log set details = $1 where part = 'audit:edit' and seq = 3`,
          ['{"n":3,"reasons":[],"verdict":"approved"}'],
        );
        assert.deepEqual(await store.verifyAudit("audit:edit"), {
          ok: false,
          entries: 2,
          firstBadSeq: 3,
          problem: "altered",
        });
      });

      it("detects a deleted row, and a truncated tail", async () => {
        await fill("audit:del", 5);
        await target.raw(`delete from audit_log where part = 'audit:del' and seq = 2`);
        const r = await store.verifyAudit("audit:del");
        assert.deepEqual(r, { ok: false, entries: 1, firstBadSeq: 2, problem: "removed" });
        await fill("audit:tail", 4);
        await target.raw(`delete from audit_log where part = 'audit:tail' and seq = 4`);
        assert.deepEqual(await store.verifyAudit("audit:tail"), {
          ok: false,
          entries: 3,
          firstBadSeq: 4,
          problem: "removed",
        });
      });

      it("detects reordered rows", async () => {
        await fill("audit:swap", 5);
        for (const [from, to] of [
          [3, -1],
          [4, 3],
          [-1, 4],
        ]) {
          await target.raw(`update audit_log set seq = $1 where part = 'audit:swap' and seq = $2`, [
            to,
            from,
          ]);
        }
        assert.deepEqual(await store.verifyAudit("audit:swap"), {
          ok: false,
          entries: 2,
          firstBadSeq: 3,
          problem: "reordered",
        });
      });

      it("keeps one chain under concurrent appends from two connections", async () => {
        const a = store.part("audit:race");
        const [mine, theirs] = await peer.race<number[], number[]>(
          { op: "append", part: "audit:race", now: clock.now(), count: 30 },
          async () =>
            (
              await Promise.all(
                Array.from({ length: 30 }, (_, i) =>
                  a.audit.append({ actor: "main", action: "race", details: { i } }),
                ),
              )
            ).map((e) => e.seq),
        );
        assert.deepEqual(
          [...mine, ...theirs].sort((x, y) => x - y),
          Array.from({ length: 60 }, (_, i) => i + 1),
        );
        const v = await store.verifyAudit("audit:race");
        assert.deepEqual(v, { ok: true, entries: 60, head: (await a.audit.head()).hash });
      });

      it("refuses secrets in details", async () => {
        const p = store.part("audit:secret");
        const err = await rejectsCode(
          p.audit.append({ actor: "a", action: "x", details: { dm: { secret: "hunter2" } } }),
          "SECRET_IN_AUDIT",
        );
        assert.ok(!err.message.includes("hunter2"));
        await rejectsCode(
          p.audit.append({ actor: "a", action: "x", details: { privateKey: "k" } }),
          "SECRET_IN_AUDIT",
        );
        assert.equal((await p.audit.head()).seq, 0);
      });
    });

    describe("subject locks", () => {
      it("two transactions that read then write one subject's rows run one after the other", async () => {
        const p = store.part("carrier:acme");
        const bump = () =>
          p.transaction(async (tx) => {
            await tx.lockSubject("359991010000012");
            const n = ((await tx.kv.get("counter", "n"))?.value as number | undefined) ?? 0;
            // Long enough for the other transaction to read the same n, were it not waiting.
            await new Promise((r) => setTimeout(r, 50));
            await tx.kv.put("counter", "n", n + 1);
          });
        await Promise.all([bump(), bump(), bump()]);
        assert.equal((await p.kv.get("counter", "n"))?.value, 3);
      });

      it("any string is a subject; outside a transaction: OUTSIDE_TRANSACTION", async () => {
        const p = store.part("carrier:acme");
        await p.transaction((tx) => tx.lockSubject("nul\u0000 and ünïcödé"));
        await rejectsCode(p.lockSubject("359991010000012"), "OUTSIDE_TRANSACTION");
      });
    });

    describe("kv, enrolment and tokens", () => {
      it("kv stores JSON with compare-and-set", async () => {
        const p = store.part("platform");
        const a = await p.kv.put("policy", "carrier:acme", { lock: "contract-end" });
        // A new row's version is random (kv.ts, firstVersion), a safe integer other than 0.
        assert.ok(Number.isSafeInteger(a.version) && a.version > 0, String(a.version));
        await rejectsCode(
          p.kv.put("policy", "carrier:acme", {}, { expectedVersion: 0 }),
          "VERSION_CONFLICT",
        );
        const b = await p.kv.put(
          "policy",
          "carrier:acme",
          { lock: "days", days: 60 },
          { expectedVersion: a.version },
        );
        assert.equal(b.version, a.version + 1);
        await rejectsCode(
          p.kv.put("policy", "carrier:acme", {}, { expectedVersion: a.version }),
          "VERSION_CONFLICT",
        );
        await p.kv.put("policy", "carrier:globex", null, { expectedVersion: 0 });
        await p.kv.put("policy", "carrier_x", 1);
        await p.kv.put("other", "carrier:zzz", 1);
        assert.deepEqual(
          (await p.kv.list("policy", { prefix: "carrier:" })).map((e) => [e.key, e.value]),
          [
            ["carrier:acme", { days: 60, lock: "days" }],
            ["carrier:globex", null],
          ],
        );
        assert.equal(await p.kv.delete("policy", "carrier:globex"), true);
        assert.equal(await p.kv.get("policy", "carrier:globex"), null);
        assert.equal(await store.part("carrier:acme").kv.get("policy", "carrier:acme"), null);
      });

      it("kv lists a namespace a page at a time, with or without a prefix", async () => {
        const p = store.part("carrier:acme");
        for (const k of ["d", "a", "c", "b", "e"]) await p.kv.put("queue", k, { k });
        await p.kv.put("queue-2", "a0", 1);
        await store.part("carrier:globex").kv.put("queue", "a1", 1);
        const keys = (rows: { key: string }[]) => rows.map((r) => r.key);
        assert.deepEqual(keys(await p.kv.list("queue")), ["a", "b", "c", "d", "e"]);
        assert.deepEqual(keys(await p.kv.list("queue", { limit: 2 })), ["a", "b"]);
        assert.deepEqual(keys(await p.kv.list("queue", { limit: 2, after: "b" })), ["c", "d"]);
        assert.deepEqual(keys(await p.kv.list("queue", { after: "e" })), []);
        assert.deepEqual((await p.kv.list("queue", { limit: 1, after: "c" }))[0]?.value, {
          k: "d",
        });
        const versions = await p.kv.versions("queue", { limit: 3, after: "a" });
        assert.deepEqual(keys(versions), ["b", "c", "d"]);
        const b = await p.kv.get("queue", "b");
        assert.deepEqual(versions[0], { key: "b", version: b?.version, updatedAt: b?.updatedAt });
        assert.deepEqual(keys(await p.kv.versions("queue", { prefix: "c" })), ["c"]);
        assert.deepEqual(keys(await p.kv.list("queue", { prefix: "b", after: "a" })), ["b"]);
        await rejectsCode(p.kv.list("queue", { limit: 0 }), "ARGUMENT_INVALID");
        await rejectsCode(p.kv.versions("queue", { after: "" }), "ARGUMENT_INVALID");
        await rejectsCode(p.kv.versions("no space", {}), "ARGUMENT_INVALID");
      });

      it("enrolment imports all or nothing and upserts", async () => {
        const p = store.part("enterprise:initech");
        assert.deepEqual(
          await p.enrolment.import([
            { imei: imei(1), user: "Peter Gibbons", userGroup: "worker" },
            { imei: imei(2), user: "Bill Lumbergh", userGroup: "executive" },
          ]),
          { inserted: 2, updated: 0 },
        );
        const bad = await rejectsCode(
          p.enrolment.import([{ imei: imei(3) }, { imei: "bad imei" }]),
          "ROW_INVALID",
        );
        assert.equal(bad.index, 1);
        assert.equal(await p.enrolment.get(imei(3)), null);
        assert.deepEqual(
          await p.enrolment.import([
            { imei: imei(2), user: "Bill Lumbergh", userGroup: "worker" },
            { imei: imei(3), userGroup: "technology" },
          ]),
          { inserted: 1, updated: 1 },
        );
        assert.equal((await p.enrolment.get(imei(2)))?.userGroup, "worker");
        await p.enrolment.set({ imei: imei(4), userGroup: "technology" });
        assert.equal(await p.enrolment.count(), 4);
        assert.equal(await p.enrolment.remove(imei(4)), true);
        assert.equal(await p.enrolment.count(), 3);
      });

      it("tokens are stored hashed, expire and can be revoked", async () => {
        const p = store.part("platform");
        const { token, record } = await p.tokens.issue({
          holders: ["carrier:acme"],
          scopes: ["verify", "migrate"],
          ttlMs: 3_600_000,
        });
        const stored = await target.raw(`select * from tokens where id = $1`, [record.id]);
        assert.ok(!JSON.stringify(stored).includes(token.slice(4)));
        const ok = await p.tokens.check(token);
        assert.equal(ok.status, "ok");
        assert.deepEqual(ok.status === "ok" && ok.token.holders, ["carrier:acme"]);
        assert.deepEqual(await p.tokens.check(`${token}x`), { status: "unknown" });
        assert.deepEqual(await store.part("platform:other").tokens.check(token), {
          status: "unknown",
        });
        clock.advance(3_600_000);
        assert.deepEqual(await p.tokens.check(token), { status: "expired" });
        const common = await p.tokens.issue({
          holders: ["carrier:acme", "carrier:globex"],
          scopes: ["verify"],
        });
        assert.equal((await p.tokens.check(common.token)).status, "ok");
        assert.equal(await p.tokens.revoke(common.record.id), true);
        assert.deepEqual(await p.tokens.check(common.token), { status: "revoked" });
      });
    });

    describe("restart", () => {
      it("keeps everything across close and reopen", async () => {
        const acme = store.part("carrier:acme");
        const n = await acme.nonces.issue({ ttlMs: 60_000 });
        const counts = {
          inventory: await acme.inventory.count(),
          devices: await acme.devices.count(),
          access: await acme.access.count(),
          verdicts: await acme.verdicts.count(),
        };
        const head = await store.part("audit:ok").audit.head();
        await store.close();
        await rejectsCode(acme.inventory.count(), "CLOSED");
        store = await target.open({ now: clock.now });
        const again = store.part("carrier:acme");
        assert.deepEqual(
          {
            inventory: await again.inventory.count(),
            devices: await again.devices.count(),
            access: await again.access.count(),
            verdicts: await again.verdicts.count(),
          },
          counts,
        );
        assert.deepEqual(await store.part("audit:ok").audit.head(), head);
        assert.equal((await store.verifyAudit("audit:ok")).ok, true);
        assert.equal((await again.nonces.consume(n.nonce)).status, "ok");
        assert.deepEqual(await store.migrate(), []);
      });
    });
  });
}

describe("openStore", () => {
  it("refuses URLs it cannot use", async () => {
    await rejectsCode(openStore("mysql://x"), "URL_INVALID");
    await rejectsCode(openStore("sqlite:"), "URL_INVALID");
  });

  it("says clearly when PostgreSQL is unreachable, without the password", async () => {
    const err = await rejectsCode(
      openStore("postgres://u:hunter2@127.0.0.1:1/none"),
      "UNAVAILABLE",
    );
    assert.match(
      err.message,
      /PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/none is unreachable/,
    );
    assert.ok(!err.message.includes("hunter2"));
  });

  it("never shows a password, wherever the URL holds it", async () => {
    for (const [url, code] of [
      ["postgres://u@127.0.0.1:1/none?password=hunter2", "UNAVAILABLE"],
      ["postgres://u@127.0.0.1:1/none?sslmode=disable&sslpassword=hunter2", "UNAVAILABLE"],
      // A raw `/` in the password: not a URL at all, and still nothing of the password shown.
      ["postgres://u:hun/ter2@127.0.0.1:1/none", "URL_INVALID"],
      ["postgres://u:hun/ter2@127.0.0.1:1/none?password=hunter2#x", "URL_INVALID"],
      // Passwords a URL parser reads as a port, a path or a fragment.
      ["postgres://u:2024#hunter2@127.0.0.1:1/none", "UNAVAILABLE"],
      ["postgres://u:1234/hunter2@127.0.0.1:1/none", "UNAVAILABLE"],
      ["postgres://u:hun?ter2@127.0.0.1:1/none", "URL_INVALID"],
    ] as const) {
      const err = await rejectsCode(openStore(url), code);
      assert.ok(!/hunter2|ter2/.test(err.message), err.message);
      assert.match(err.message, /127\.0\.0\.1:1\/none/, "the rest of the URL is still there");
      assert.ok(!/hunter2|ter2/.test(redactUrl(url)), redactUrl(url));
    }
  });

  it("shares one SQLite file's connection in a process, and refuses other settings for it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmguard-open-"));
    const url = `sqlite:${join(dir, "db.sqlite")}`;
    try {
      const first = await openStore(url, { checkpoint: "background" });
      // Same settings, or none asked for: the open connection, shared.
      const second = await openStore(url, { checkpoint: "background", busyTimeoutMs: 5000 });
      const third = await openStore(url, { migrate: false });
      await first.part("carrier:acme").access.set(imei(1), "full");
      assert.equal((await third.part("carrier:acme").access.get(imei(1)))?.access, "full");
      const refused = await rejectsCode(
        openStore(url, { checkpoint: "inline", synchronous: "NORMAL" }),
        "ARGUMENT_INVALID",
      );
      assert.match(refused.message, /already open in this process with checkpoint background/);
      await rejectsCode(openStore(url, { synchronous: "FULL" }), "ARGUMENT_INVALID");
      // The refusals took no share: three closes close the file, and it opens anew with FULL.
      await Promise.all([first.close(), second.close(), third.close()]);
      const reopened = await openStore(url, { synchronous: "FULL" });
      assert.equal((await reopened.part("carrier:acme").access.get(imei(1)))?.access, "full");
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("opens an in-memory SQLite database", async () => {
    const s = await openStore("sqlite::memory:");
    await s.part("carrier:acme").access.set(imei(1), "full");
    assert.equal(await s.part("carrier:acme").access.count(), 1);
    await s.close();
  });
});
