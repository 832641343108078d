import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

// The README points users at this example; it must keep working as written.
const EXAMPLE = fileURLToPath(new URL("../../examples/dm-session.ts", import.meta.url));

for (const encoding of ["xml", "wbxml"]) {
  test(`examples/dm-session.ts completes an authenticated session over ${encoding}`, async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      "--import",
      "tsx",
      EXAMPLE,
      encoding,
    ]);
    assert.match(stdout, new RegExp(`^session \\d+ over ${encoding}: completed$`, "m"));
    assert.match(stdout, /^ {2}Get -> 200$/m);
    assert.match(stdout, /^ {2}Replace -> 200$/m);
    assert.match(stdout, /Greeting on the device = hi$/m);
  });
}
