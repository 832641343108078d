import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startUp, tempDir } from "./stack-support.js";

/** Waits until `up`'s stdout shows `pattern` (the demo prints its table once all devices ran). */
async function waitFor(read: () => string, pattern: RegExp, ms: number): Promise<string> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (pattern.test(read())) return read();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${pattern} within ${ms} ms:\n${read()}`);
}

describe("dmguard up --demo", () => {
  test("activates a mixed fleet after ready and prints a table of verdicts and reasons", async () => {
    const data = await tempDir("demo");
    const up = await startUp(["--data", data.path, "--demo"]);
    try {
      const out = await waitFor(up.stdout, /device folders: /, 15_000);
      const table = out.slice(out.indexOf("\nready "));
      assert.match(
        table,
        /#\s+device\s+IMEI\s+carrier\s+what was done\s+verdict\s+access\s+reasons/,
      );
      assert.match(table, /clean phone\s+approved\s+full\s+-/);
      assert.match(table, /rooted: su binary installed\s+denied\s+limited\s+ROOT_SU$/m);
      assert.match(table, /\s+denied\s+limited\s+ATTESTATION_INVALID$/m);
      assert.match(table, /\s+denied\s+limited\s+KEY_PROOF_INVALID CLONE_SUSPECTED$/m);
      assert.match(table, /via initech, enrolled executive\s+approved\s+full\s+-$/m);
      assert.match(table, /via initech, not enrolled\s+denied\s+limited\s+NOT_ENROLLED$/m);
      assert.match(table, /all 14 verdicts are the ones CONTRACT\.md expects/);
    } finally {
      assert.equal(await up.stop(), 0);
      await data.remove();
    }
  });
});
