import assert from "node:assert/strict";
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createOemCa } from "../../src/device/index.js";
import { runCli } from "../support/cli.js";
import { oneLine, startServer, tempDir, type UpProcess } from "./stack-support.js";

describe("dmguard serve carrier", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: UpProcess;
  const config = (name: string, body: unknown) =>
    writeFile(join(dir.path, name), JSON.stringify(body, null, 2));

  before(async () => {
    dir = await tempDir("serve");
    const ca = await createOemCa({ name: "Serve OEM" });
    await writeFile(join(dir.path, "oem-ca.pem"), ca.certificatePem);
    // Relative paths are the config folder's.
    await config("globex.json", {
      carrier: "globex",
      port: 0,
      dataDir: "globex-data",
      oemCaCertificate: "oem-ca.pem",
      profile: { mcc: "310", mnc: "410" },
    });
    server = await startServer([
      "serve",
      "carrier",
      "--config",
      join(dir.path, "globex.json"),
      "--db",
      `sqlite:${join(dir.path, "elsewhere.sqlite")}`,
      "--no-log",
    ]);
  });
  after(async () => {
    await server.stop();
    await dir.remove();
  });

  test("serves one carrier: ready, health, its routes only", async () => {
    assert.match(
      server.stdout(),
      /^carrier globex {2}http:\/\/127\.0\.0\.1:\d+\/carriers\/globex$/m,
    );
    assert.equal((await fetch(`${server.baseUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.baseUrl}/carriers/globex/verdict-key`)).status, 200);
    assert.equal((await fetch(`${server.baseUrl}/carriers/acme/verdict-key`)).status, 404);
  });

  test("keeps its admin token (0600) and store where the config and --db say", async () => {
    const data = join(dir.path, "globex-data");
    assert.equal((await stat(join(data, "credentials.json"))).mode & 0o777, 0o600);
    assert.ok((await stat(join(dir.path, "elsewhere.sqlite"))).isFile());
    // The carrier commands work against it with --stack <dataDir>: the token is accepted.
    const r = await runCli([
      "carrier",
      "block",
      "359991010000012",
      "--stack",
      data,
      "--carrier",
      "globex",
    ]);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /DEVICE_NOT_FOUND/);
  });

  test("a bad config: exit 2 naming the problem; a missing one: exit 1", async () => {
    await config("unknown-field.json", {
      carrier: "acme",
      dataDir: "x",
      oemCaCertificate: "oem-ca.pem",
      prot: 1,
    });
    await config("bad-profile.json", {
      carrier: "acme",
      dataDir: "bad-profile-data",
      oemCaCertificate: "oem-ca.pem",
      port: 0,
      profile: { mcc: "31" },
    });
    await config("no-ca.json", { carrier: "acme", dataDir: "x", oemCaCertificate: "globex.json" });
    const run = (name: string) => runCli(["serve", "carrier", "--config", join(dir.path, name)]);
    const [unknown, profile, noCa, missing] = await Promise.all([
      run("unknown-field.json"),
      run("bad-profile.json"),
      run("no-ca.json"),
      run("missing.json"),
    ]);
    assert.equal(unknown.code, 2);
    assert.match(oneLine(unknown.stderr), /unknown field "prot"/);
    assert.equal(profile.code, 2);
    assert.match(oneLine(profile.stderr), /profile\.mcc must be 3 digits/);
    assert.equal(noCa.code, 2);
    assert.match(oneLine(noCa.stderr), /holds no PEM certificate/);
    assert.equal(missing.code, 1);
    assert.match(oneLine(missing.stderr), /cannot read .*missing\.json: no such file/);
  });
});
