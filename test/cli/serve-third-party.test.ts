// `dmguard serve platform` and `dmguard serve enterprise`, each alone from its JSON config, the
// enterprise forwarding globex's devices to the served platform with the enterprise's token that
// the platform wrote to its credentials.json: two real processes talking HTTP.
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createOemCa } from "../../src/device/index.js";
import { generateImei } from "../../src/identity/index.js";
import { importRecipientPublicKey, sealDeviceKey } from "../../src/keystore/hpke-suite.js";
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

  test("serve carrier with `platform`: its block reaches its custody at the served platform", async () => {
    const creds = JSON.parse(
      await readFile(join(dir.path, "platform-data", "credentials.json"), "utf8"),
    );
    const custodyToken: string = creds.platformTokens["carrier:acme"];
    await writeFile(join(dir.path, "acme.token"), custodyToken);
    await config("acme.json", {
      carrier: "acme",
      dataDir: "acme-data",
      oemCaCertificate: "oem-ca.pem",
      port: 0,
      platform: { url: `${platform.baseUrl}/platform`, tokenFile: "acme.token" },
    });
    const carrier = await startServer([
      "serve",
      "carrier",
      "--config",
      join(dir.path, "acme.json"),
      "--no-log",
    ]);
    try {
      // One device in acme's inventory and in acme's custody at the platform.
      const imei = generateImei("dmg-phone-1");
      const kid = randomBytes(8).toString("hex");
      const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const attestationKey = publicKey.export({ type: "spki", format: "pem" }).toString();
      const admin = JSON.parse(
        await readFile(join(dir.path, "acme-data", "credentials.json"), "utf8"),
      ).adminTokens["carrier:acme"];
      const inv = await fetch(`${carrier.baseUrl}/carriers/acme/inventory`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
        body: JSON.stringify([{ imei, model: "dmg-phone-1", kid, attestationKey }]),
      });
      assert.equal(inv.status, 200, await inv.clone().text());
      const transport = (await (
        await fetch(`${platform.baseUrl}/platform/transport-key`)
      ).json()) as { jwk: unknown };
      const wrappedKey = await sealDeviceKey(
        await importRecipientPublicKey(transport.jwk),
        "carrier:acme",
        kid,
        new Uint8Array(randomBytes(32)),
      );
      const dep = await fetch(`${platform.baseUrl}/platform/custody/acme/devices/${imei}`, {
        method: "PUT",
        headers: { "content-type": "application/json", authorization: `Bearer ${custodyToken}` },
        body: JSON.stringify({ model: "dmg-phone-1", kid, attestationKey, wrappedKey }),
      });
      assert.equal(dep.status, 200, await dep.clone().text());

      const b = await runCli([
        "carrier",
        "block",
        imei,
        "--stack",
        join(dir.path, "acme-data"),
        "--carrier",
        "acme",
      ]);
      assert.equal(b.code, 0, b.stderr);
      // The events route answers with what the platform holds; this probe changes no status
      // (an activation date far in the future, which never moves a status or a version).
      const held = async () => {
        const r = await fetch(`${platform.baseUrl}/platform/custody/acme/devices/${imei}/events`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${custodyToken}` },
          body: JSON.stringify({ event: "activated", activatedAt: "2999-01-01T00:00:00.000Z" }),
        });
        return (await r.json()) as { status: string; version: number; applied: boolean };
      };
      let seen = await held();
      for (let i = 0; i < 40 && seen.version === 0; i++) {
        // Until the carrier's outbox delivered its event.
        await new Promise((r) => setTimeout(r, 100));
        seen = await held();
      }
      assert.equal(seen.status, "blocked");
      assert.equal(seen.version, 1);
    } finally {
      await carrier.stop();
    }
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
    await config("bad-carrier.json", {
      carrier: "acme",
      dataDir: "z",
      oemCaCertificate: "oem-ca.pem",
      platform: { url: "http://127.0.0.1:1/platform" },
    });
    const c = await runCli(["serve", "carrier", "--config", join(dir.path, "bad-carrier.json")]);
    assert.equal(c.code, 2);
    assert.match(
      oneLine(c.stderr),
      /bad-carrier\.json: platform needs the carrier's custody token/,
    );
  });
});
