// `serve carrier`'s `migration` field: old carriers asked directly (with the peer token they
// issued, inline or in a file), where port-out notices go, this carrier's own policy. A good one
// is read as given and the server starts with it; every bad one stops the start with exit 2 and
// one line naming the field, before anything is created.
import assert from "node:assert/strict";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { CliError } from "../../src/cli/exit.js";
import { readCarrierConfig } from "../../src/cli/serve/carrier-config.js";
import { createOemCa } from "../../src/device/index.js";
import { oneLine, startServer, tempDir } from "../cli/stack-support.js";
import { runCli } from "../support/cli.js";

describe("serve carrier: the migration field", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const write = async (name: string, migration: unknown) => {
    const file = join(dir.path, name);
    const cfg = {
      carrier: "globex",
      port: 0,
      dataDir: `${name}-data`,
      oemCaCertificate: "oem-ca.pem",
      migration,
    };
    await writeFile(file, JSON.stringify(cfg));
    return file;
  };
  const good = {
    direct: {
      acme: { url: "http://127.0.0.1:9/", tokenFile: "acme-peer-token" },
      initrode: { url: "https://initrode.example", token: "t0k3n-of-initrode-abcdef" },
    },
    peers: { acme: "http://127.0.0.1:9" },
    policy: { subsidyLock: "days-after-activation:60", terminatedMayPortOut: true },
  };

  before(async () => {
    dir = await tempDir("migration-config");
    await writeFile(
      join(dir.path, "oem-ca.pem"),
      (await createOemCa({ name: "Config OEM" })).certificatePem,
    );
    await writeFile(join(dir.path, "acme-peer-token"), "peer-token-from-acme-0123456789\n");
  });
  after(() => dir.remove());

  test("read as given; the token file relative to the config", async () => {
    const cfg = await readCarrierConfig(await write("good.json", good));
    assert.deepEqual(cfg.migration, {
      direct: {
        acme: { url: "http://127.0.0.1:9/", token: "peer-token-from-acme-0123456789" },
        initrode: { url: "https://initrode.example", token: "t0k3n-of-initrode-abcdef" },
      },
      peers: { acme: "http://127.0.0.1:9" },
      policy: { subsidyLock: "days-after-activation:60", terminatedMayPortOut: true },
    });
    assert.equal(
      (await readCarrierConfig(await write("none.json", undefined))).migration,
      undefined,
    );
  });

  test("the server starts with it", async () => {
    const server = await startServer([
      "serve",
      "carrier",
      "--config",
      await write("serve.json", good),
      "--no-log",
    ]);
    try {
      const r = await fetch(`${server.baseUrl}/carriers/globex/migration/nonce`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(r.status, 200);
    } finally {
      await server.stop();
    }
  });

  test("each bad one: exit 2, one line naming the field, nothing created", async () => {
    const cases: Array<[unknown, RegExp]> = [
      [["acme"], /migration must be an object/],
      [{ other: 1 }, /migration: unknown field "other"/],
      [{ direct: [] }, /migration\.direct must be an object/],
      [{ direct: { "Not An Id": {} } }, /migration\.direct: "Not An Id" is not a carrier id/],
      [{ direct: { globex: { url: "http://x", token: "t" } } }, /globex is this carrier itself/],
      [{ direct: { acme: { url: "ftp://x", token: "t" } } }, /migration\.direct\.acme\.url/],
      [{ direct: { acme: { url: "http://x" } } }, /migration\.direct\.acme needs a token/],
      [
        { direct: { acme: { url: "http://x", token: "" } } },
        /migration\.direct\.acme needs a token/,
      ],
      [
        { direct: { acme: { url: "http://x", tokenFile: "missing" } } },
        /migration\.direct\.acme\.tokenFile: ENOENT/,
      ],
      [{ direct: { acme: { url: "http://x", token: "t", x: 1 } } }, /unknown field "x"/],
      [{ peers: { acme: 7 } }, /migration\.peers\.acme must be/],
      [{ policy: { subsidyLock: "days-after-activation:x" } }, /migration\.policy/],
      [{ policy: { subsidyLock: "none", other: true } }, /migration\.policy must be/],
      [{ policy: { terminatedMayPortOut: "yes" } }, /migration\.policy must be/],
    ];
    let i = 0;
    for (const [migration, why] of cases) {
      i += 1;
      const file = await write(`bad${i}.json`, migration);
      await assert.rejects(readCarrierConfig(file), (err: CliError) => {
        assert.equal(err.exitCode, 2, `${JSON.stringify(migration)}: ${err.message}`);
        assert.ok(!err.message.includes("\n"), err.message);
        assert.match(err.message, why);
        return true;
      });
    }
    // And through the command: exit 2, that one line.
    const r = await runCli(["serve", "carrier", "--config", join(dir.path, "bad7.json")]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(oneLine(r.stderr), /migration\.direct\.acme needs a token/);
    const left = await readdir(dir.path);
    assert.ok(!left.some((f) => /^bad\d+\.json-data$/.test(f)), `nothing created: ${left}`);
  });
});
