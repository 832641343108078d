// `dmguard serve platform` and `dmguard serve enterprise`, each alone from its JSON config, the
// enterprise forwarding globex's devices to the served platform with the enterprise's token that
// the platform wrote to its credentials.json: two real processes talking HTTP.
import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createOemCa } from "../../src/device/index.js";
import { generateImei } from "../../src/identity/index.js";
import { runCli } from "../support/cli.js";
import { oneLine, startServer, tempDir, type UpProcess } from "./stack-support.js";

describe("dmguard serve platform | enterprise", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let platform: UpProcess;
  let enterprise: UpProcess;
  const config = (name: string, body: unknown) =>
    writeFile(join(dir.path, name), JSON.stringify(body, null, 2));

  before(async () => {
    dir = await tempDir("serve-3p");
    const ca = await createOemCa({ name: "Serve OEM" });
    await writeFile(join(dir.path, "oem-ca.pem"), ca.certificatePem);
    await config("platform.json", {
      dataDir: "platform-data",
      oemCaCertificate: "oem-ca.pem",
      port: 0,
      carriers: ["acme", "globex"],
      enterprises: [{ id: "initech", carriers: ["globex"] }],
    });
    platform = await startServer([
      "serve",
      "platform",
      "--config",
      join(dir.path, "platform.json"),
      "--no-log",
    ]);
    const creds = JSON.parse(
      await readFile(join(dir.path, "platform-data", "credentials.json"), "utf8"),
    );
    await writeFile(join(dir.path, "initech.token"), creds.platformTokens["enterprise:initech"]);
    await config("initech.json", {
      enterprise: "initech",
      dataDir: "initech-data",
      port: 0,
      upstreams: {
        globex: { kind: "platform", url: platform.baseUrl, tokenFile: "initech.token" },
      },
    });
    enterprise = await startServer([
      "serve",
      "enterprise",
      "--config",
      join(dir.path, "initech.json"),
      "--no-log",
    ]);
  });
  after(async () => {
    await enterprise.stop();
    await platform.stop();
    await dir.remove();
  });

  test("the platform serves alone: ready, health, its routes; tokens 0600", async () => {
    assert.match(platform.stdout(), /^platform platform {2}http:\/\/127\.0\.0\.1:\d+\/platform$/m);
    assert.equal((await fetch(`${platform.baseUrl}/healthz`)).status, 200);
    assert.equal((await fetch(`${platform.baseUrl}/platform/transport-key`)).status, 200);
    assert.equal((await fetch(`${platform.baseUrl}/carriers/acme/verdict-key`)).status, 404);
    const creds = join(dir.path, "platform-data", "credentials.json");
    assert.equal((await stat(creds)).mode & 0o777, 0o600);
    const c = JSON.parse(await readFile(creds, "utf8"));
    assert.ok(c.adminTokens.platform, "the operator token");
    assert.ok(c.platformTokens["carrier:acme"] && c.platformTokens["carrier:globex"]);
  });

  test("the enterprise serves alone and gets its nonces from the served platform", async () => {
    assert.match(
      enterprise.stdout(),
      /^enterprise initech {2}http:\/\/127\.0\.0\.1:\d+\/enterprises\/initech$/m,
    );
    assert.equal((await fetch(`${enterprise.baseUrl}/healthz`)).status, 200);
    const n = await fetch(`${enterprise.baseUrl}/enterprises/initech/activation/nonce`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ carrier: "globex" }),
    });
    assert.equal(n.status, 200, await n.clone().text());
    assert.equal(((await n.json()) as { carrier: string }).carrier, "globex");
    // Its admin token works for the enrolment commands with --stack <dataDir>.
    const r = await runCli([
      "enterprise",
      "enroll",
      generateImei("dmg-phone-1"),
      "--stack",
      join(dir.path, "initech-data"),
      "--enterprise",
      "initech",
      "--user-group",
      "worker",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.toString()).userGroup, "worker");
  });

  test("bad configs are usage errors naming the file and field", async () => {
    await config("bad-platform.json", { dataDir: "x", oemCaCertificate: "oem-ca.pem", tenants: 1 });
    const p = await runCli(["serve", "platform", "--config", join(dir.path, "bad-platform.json")]);
    assert.equal(p.code, 2);
    assert.match(oneLine(p.stderr), /bad-platform\.json: unknown field "tenants"/);
    await config("bad-ent.json", {
      enterprise: "initech",
      dataDir: "y",
      upstreams: { globex: { kind: "platform", url: "http://127.0.0.1:1" } },
    });
    const e = await runCli(["serve", "enterprise", "--config", join(dir.path, "bad-ent.json")]);
    assert.equal(e.code, 2);
    assert.match(oneLine(e.stderr), /upstreams\.globex needs the enterprise's platform token/);
  });
});
