/**
 * test/fixtures/shared is a copy of the team's shared reference data (../shared beside a working
 * checkout: fixtures/ and CONTRACT.md), so that a clone anywhere runs the suite. Where ../shared
 * is present, the copy must equal it byte for byte: a change there (a new reason code in
 * CONTRACT.md, a new fixture) fails here until the copy is refreshed with
 * `cp -r ../shared/fixtures/* test/fixtures/shared/ && cp ../shared/CONTRACT.md test/fixtures/shared/`.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { SHARED_FIXTURES } from "./fixtures.js";

const SHARED = fileURLToPath(new URL("../../../shared/", import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

const present = existsSync(join(SHARED, "CONTRACT.md"));

test("the vendored copy equals ../shared's fixtures and CONTRACT.md", {
  skip: present ? false : "no ../shared beside this checkout: the copy is all there is",
}, () => {
  const theirs = [...files(join(SHARED, "fixtures")), "CONTRACT.md"].sort();
  assert.deepEqual(files(SHARED_FIXTURES), theirs);
  for (const f of theirs) {
    const from = f === "CONTRACT.md" ? join(SHARED, f) : join(SHARED, "fixtures", f);
    assert.ok(
      readFileSync(join(SHARED_FIXTURES, f)).equals(readFileSync(from)),
      `${f} differs from ../shared`,
    );
  }
});
