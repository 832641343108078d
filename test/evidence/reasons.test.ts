// The reason-code catalogue agrees with CONTRACT.md (STYLE habit 3): a code added to one and
// not the other fails here.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import {
  DEVICE_REASONS,
  isReasonCode,
  orderReasons,
  REASON_CODES,
  sortReasons,
} from "../../src/evidence/index.js";
import { SHARED_FIXTURES } from "../support/fixtures.js";

// The copy in test/fixtures/shared (test/support/shared-copy.test.ts keeps it equal to ../shared).
const CONTRACT = `${SHARED_FIXTURES}CONTRACT.md`;

async function contractCodes(): Promise<string[]> {
  const text = await readFile(CONTRACT, "utf8");
  const section = text.split("## Reason codes")[1]?.split("\n## ")[0];
  assert.ok(section, "CONTRACT.md has a Reason codes section");
  return [...section.matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1]!);
}

test("REASON_CODES equals CONTRACT.md's vocabulary, in its order", async () => {
  assert.deepEqual([...REASON_CODES], await contractCodes());
});

test("every device reason is a contract reason, in contract order", () => {
  for (const r of DEVICE_REASONS) assert.ok(isReasonCode(r), r);
  assert.deepEqual(orderReasons(DEVICE_REASONS), [...DEVICE_REASONS]);
});

test("orderReasons and sortReasons deduplicate and order", () => {
  assert.deepEqual(orderReasons(["NONCE_REPLAYED", "ROOT_SU", "ROOT_SU", "UNKNOWN_DEVICE"]), [
    "UNKNOWN_DEVICE",
    "ROOT_SU",
    "NONCE_REPLAYED",
  ]);
  assert.deepEqual(sortReasons(["OS_MODIFIED", "PAYLOAD_CRC"]), ["PAYLOAD_CRC", "OS_MODIFIED"]);
  assert.equal(isReasonCode("NOT_A_CODE"), false);
});
