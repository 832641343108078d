import assert from "node:assert/strict";
import { readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { openSoftwareKeystore } from "../../src/keystore/index.js";
import { ACME, code, crashedWithJournal, JOURNAL, present, SEALED, tempDir } from "./helpers.js";

describe("the journal", () => {
  test("changes appended to the journal survive a crash (no close) and reopen", async () => {
    const dir = await tempDir();
    const checks = await crashedWithJournal(dir, 3);
    assert.ok((await stat(join(dir, JOURNAL))).size > 32, "the journal holds entries");
    assert.deepEqual(await present(dir, 4), checks);
    // Closing folded the journal into the sealed file and removed it: no empty one is written.
    await assert.rejects(stat(join(dir, JOURNAL)), { code: "ENOENT" });
    assert.deepEqual(await present(dir, 4), checks);
  });

  test("a compaction leaves no journal; the first change after it starts one", async () => {
    const dir = await tempDir();
    const ks = await openSoftwareKeystore({ dir });
    try {
      // The first write of a new keystore is a compaction: a sealed file and nothing else.
      await ks.forOwner(ACME).ensureSecretKey("s0");
      await stat(join(dir, SEALED));
      await assert.rejects(stat(join(dir, JOURNAL)), { code: "ENOENT" });
      await ks.forOwner(ACME).ensureSecretKey("s1");
      assert.ok((await stat(join(dir, JOURNAL))).size > 32, "the change is in a new journal");
    } finally {
      await ks.close();
    }
    assert.equal((await present(dir, 2)).length, 2);
  });

  test("a torn last entry (cut short, zeros, or its head written and not all its body) is dropped; every earlier change is kept", async () => {
    for (const tear of ["truncate", "zeros", "body-zeros"] as const) {
      const dir = await tempDir();
      const checks = await crashedWithJournal(dir, 3);
      const path = join(dir, JOURNAL);
      const journal = await readFile(path);
      // The last entry's length, to find where it begins.
      let at = 32;
      let last = at;
      while (at < journal.length) {
        last = at;
        at += 4 + journal.readUInt32BE(at);
      }
      // body-zeros: the length, the IV and the body's first bytes reached the disk, the rest not.
      const head = 4 + 12 + 8;
      const torn =
        tear === "truncate"
          ? journal.subarray(0, journal.length - 5)
          : tear === "zeros"
            ? Buffer.concat([journal.subarray(0, last), Buffer.alloc(journal.length - last)])
            : Buffer.concat([
                journal.subarray(0, last + head),
                Buffer.alloc(journal.length - last - head),
              ]);
      await writeFile(path, torn);
      assert.deepEqual(await present(dir, 4), checks.slice(0, 3), tear);
      // The keystore writes on after the recovery.
      const ks = await openSoftwareKeystore({ dir });
      await ks.forOwner(ACME).ensureSecretKey("s3");
      await ks.close();
      assert.equal((await present(dir, 4)).length, 4, tear);
    }
  });

  test("an edited entry before the last → SEALED_FILE_CORRUPT, and the files are left as found", async () => {
    const dir = await tempDir();
    await crashedWithJournal(dir, 3);
    const path = join(dir, JOURNAL);
    const journal = await readFile(path);
    const sealed = await readFile(join(dir, SEALED));
    for (const at of [40, 32 + 4 + 12 + 3]) {
      const edited = Buffer.from(journal);
      edited[at] = (edited[at] ?? 0) ^ 0x01;
      await writeFile(path, edited);
      await assert.rejects(openSoftwareKeystore({ dir }), code("SEALED_FILE_CORRUPT"), `${at}`);
      assert.deepEqual(await readFile(path), edited);
      assert.deepEqual(await readFile(join(dir, SEALED)), sealed);
    }
    // The header: magic edited, or its master-key check.
    const badMagic = Buffer.from(journal);
    badMagic[0] = (badMagic[0] ?? 0) ^ 0x01;
    await writeFile(path, badMagic);
    await assert.rejects(openSoftwareKeystore({ dir }), code("SEALED_FILE_CORRUPT"));
    const badCheck = Buffer.from(journal);
    badCheck[10] = (badCheck[10] ?? 0) ^ 0x01;
    await writeFile(path, badCheck);
    await assert.rejects(openSoftwareKeystore({ dir }), code("MASTER_KEY_WRONG"));
  });

  test("a journal whose sealed file is gone → SEALED_FILE_CORRUPT (keys are not silently lost)", async () => {
    const dir = await tempDir();
    await crashedWithJournal(dir, 2);
    await rm(join(dir, SEALED));
    await assert.rejects(openSoftwareKeystore({ dir }), code("SEALED_FILE_CORRUPT"));
  });

  test("a journal already folded into the sealed file (crash between the two) is ignored", async () => {
    const dir = await tempDir();
    const checks = await crashedWithJournal(dir, 2);
    const stale = await readFile(join(dir, JOURNAL));
    // Open and close: the journal is folded into a newer sealed file; put the old journal back.
    assert.deepEqual(await present(dir, 3), checks);
    await writeFile(join(dir, JOURNAL), stale);
    assert.deepEqual(await present(dir, 3), checks);
  });

  test("no secret is in the clear in the journal", async () => {
    const dir = await tempDir();
    let ks = await openSoftwareKeystore({ dir });
    await ks.ensureSigningKey("v");
    await ks.close();
    ks = await openSoftwareKeystore({ dir });
    await ks.forOwner(ACME).ensureSecretKey("visible-label");
    const journal = await readFile(join(dir, JOURNAL));
    await ks.close();
    assert.ok(journal.length > 32);
    assert.equal(journal.includes(Buffer.from("visible-label")), false, "labels are sealed too");
    assert.equal(journal.includes(Buffer.from(ACME)), false);
  });
});
