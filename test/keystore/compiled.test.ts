import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDir } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

// The same worker must start from compiled JavaScript (dist), where there is no tsx: build
// src/keystore alone with tsc into a temporary directory and drive it from a plain node process.
// The root is src/, so the one part the keystore may import (fault: its crash points) is built
// beside it, as in dist.
describe("compiled keystore (no tsx)", () => {
  test("opens, signs, makes a device key, reopens", async () => {
    const out = await tempDir();
    const build = spawnSync(
      process.execPath,
      [
        TSC,
        "--outDir",
        out,
        "--rootDir",
        join(ROOT, "src"),
        "--module",
        "NodeNext",
        "--moduleResolution",
        "NodeNext",
        "--target",
        "ES2022",
        "--lib",
        "ES2023",
        "--types",
        "node",
        "--strict",
        "--skipLibCheck",
        "--verbatimModuleSyntax",
        "--ignoreConfig",
        join(ROOT, "src/keystore/index.ts"),
        join(ROOT, "src/keystore/hpke-recipient.ts"),
        join(ROOT, "src/keystore/software/worker.ts"),
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.equal(build.status, 0, build.stdout + build.stderr);
    await symlink(join(ROOT, "node_modules"), join(out, "node_modules"));
    await writeFile(join(out, "package.json"), '{ "type": "module" }\n');
    await mkdir(join(out, "data"));
    const script = `
      import { openSoftwareKeystore } from "./keystore/index.js";
      import { generateRecipientKeyPair, openWrappedKey } from "./keystore/hpke-recipient.js";
      let ks = await openSoftwareKeystore({ dir: "./data" });
      const jwk = await ks.ensureSigningKey("verdict");
      const jws = await ks.signJws("verdict", "{}");
      const me = await generateRecipientKeyPair();
      const { kid, wrapped } = await ks.createDeviceKey("carrier:acme", me.publicKey);
      const key = await openWrappedKey(me.privateKey, wrapped);
      await ks.close();
      ks = await openSoftwareKeystore({ dir: "./data" });
      const again = await ks.ensureSigningKey("verdict");
      const kcv = await ks.keyCheckValue("carrier:acme", kid, "label");
      await ks.close();
      console.log(JSON.stringify({ same: again.kid === jwk.kid, parts: jws.split(".").length, n: key.length, kcv: kcv.length }));
    `;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: out,
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { same: true, parts: 3, n: 32, kcv: 16 });
  });
});
