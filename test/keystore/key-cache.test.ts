import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { KEY_CACHE_SIZE, Vault } from "../../src/keystore/software/vault.js";
import { tempDir } from "./helpers.js";

test("opened keys are kept for the most recently used only, and reopened when needed", async () => {
  const dir = await tempDir();
  const vault = await Vault.open(dir, join(dir, "master.key"));
  try {
    const n = KEY_CACHE_SIZE + 10;
    await vault.mutate((d) => {
      for (let i = 0; i < n; i++)
        d.put("secret", "carrier:a", `k${i}`, {}, new Uint8Array(32).fill(i % 251));
    });
    let builds = 0;
    // What `build` makes from the secret: its first byte, so a wrong record would show.
    const open = (i: number) =>
      vault.key("secret", "carrier:a", `k${i}`, (secret) => {
        builds++;
        return secret[0];
      });
    for (let i = 0; i < n; i++) assert.equal(open(i), i % 251);
    assert.equal(builds, n);
    // The last KEY_CACHE_SIZE are kept: no reopening.
    assert.equal(open(n - 1), (n - 1) % 251);
    assert.equal(builds, n);
    // The first ones were let go: opened again from their record, with the right secret.
    assert.equal(open(0), 0);
    assert.equal(builds, n + 1);
    assert.equal(
      vault.key("secret", "carrier:b", "k0", () => 1),
      undefined,
    );
  } finally {
    await vault.close();
  }
});
