import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DeviceDmClient, openDevice } from "../../src/device/index.js";
import { runCli } from "../support/cli.js";
import { manufacture, oneLine, startUp, tempDir, type UpProcess } from "./stack-support.js";

describe("dmguard up", () => {
  let data: Awaited<ReturnType<typeof tempDir>>;
  let up: UpProcess;

  before(async () => {
    data = await tempDir("up");
    up = await startUp(["--data", data.path]);
  });
  after(async () => {
    await up.stop();
    await data.remove();
  });

  test("prints the URLs, then ready with the base URL; /healthz answers", async () => {
    const out = up.stdout();
    assert.match(out, /carrier\s+acme\s+http:\/\/127\.0\.0\.1:\d+\/carriers\/acme/);
    assert.match(out, /carrier\s+globex\s+http:\/\/127\.0\.0\.1:\d+\/carriers\/globex/);
    assert.ok(out.indexOf("/healthz") < out.indexOf("\nready "), "the URLs come first");
    const health = await fetch(`${up.baseUrl}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    const vk = await fetch(`${up.baseUrl}/carriers/globex/verdict-key`);
    assert.equal(vk.status, 200);
  });

  test("writes what the other commands need; secrets are 0600", async () => {
    const info = JSON.parse(await readFile(join(data.path, "stack.json"), "utf8"));
    assert.equal(info.baseUrl, up.baseUrl);
    assert.deepEqual(
      info.parts.map((p: { kind: string; id: string }) => `${p.kind}:${p.id}`),
      ["carrier:acme", "carrier:globex", "platform:platform", "enterprise:initech"],
    );
    // The platform and initech answer on the same port (issue 5).
    assert.equal((await fetch(`${up.baseUrl}/platform/carriers/acme/verdict-key`)).status, 200);
    for (const f of ["credentials.json", "oem-ca.json"]) {
      assert.equal((await stat(join(data.path, f))).mode & 0o777, 0o600, f);
    }
    const creds = JSON.parse(await readFile(join(data.path, "credentials.json"), "utf8"));
    assert.match(creds.adminTokens["carrier:acme"], /^dmg_/);
  });

  test("admin routes refuse a request without the token", async () => {
    const r = await fetch(`${up.baseUrl}/carriers/acme/devices/359991010000012`);
    assert.equal(r.status, 401);
  });

  test("a second up on the same port fails with one line, exit 1", async () => {
    const port = new URL(up.baseUrl).port;
    const other = await tempDir("up-busy");
    try {
      const r = await runCli(["up", "--data", other.path, "--port", port]);
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), /port \d+ .* in use/);
    } finally {
      await other.remove();
    }
  });
});

describe("dmguard up, restarted", () => {
  test("keeps the CA, tokens, inventory, devices, verdicts, access, DM accounts and the audit chain", async () => {
    const data = await tempDir("restart");
    const devices = await tempDir("restart-dev");
    const [d1, d2] = [join(devices.path, "d1"), join(devices.path, "d2")];
    const audit = async () => {
      const r = await runCli(["audit", "verify", "--stack", data.path, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout.toString()) as { parts: Array<{ part: string; head: string }> };
    };
    try {
      let up = await startUp(["--data", data.path]);
      // The same port after the restart: the DM account's server URI stays the device's.
      const port = new URL(up.baseUrl).port;
      const [made, tampered] = await Promise.all([
        manufacture(data.path, d1, ["--carrier", "acme"]),
        manufacture(data.path, d2, ["--carrier", "acme"]),
      ]);
      assert.equal((await runCli(["device", "tamper", d2, "su"])).code, 0);
      const [approved, denied] = await Promise.all([
        runCli(["device", "activate", d1, "--json"]),
        runCli(["device", "activate", d2, "--json"]),
      ]);
      assert.equal(approved.code, 0, approved.stderr);
      assert.equal(denied.code, 3, denied.stderr);
      const creds1 = await readFile(join(data.path, "credentials.json"), "utf8");
      const token = JSON.parse(creds1).adminTokens["carrier:acme"] as string;
      const lookup = async (imei: string) => {
        const r = await fetch(`${up.baseUrl}/carriers/acme/devices/${imei}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(r.status, 200);
        return (await r.json()) as Record<string, unknown>;
      };
      const before = [await lookup(made.imei), await lookup(tampered.imei)];
      assert.equal(before[0]!.state, "provisioned");
      assert.equal(before[1]!.networkAccess, "limited");
      const ca1 = JSON.parse(await readFile(join(data.path, "stack.json"), "utf8")).oemCa.oemId;
      assert.equal(await up.stop(), 0);
      assert.match(up.stderr(), /stopping/);
      const chain = await audit();

      up = await startUp(["--data", data.path, "--port", port]);
      try {
        assert.match(up.stdout(), /reused/);
        assert.equal(await readFile(join(data.path, "credentials.json"), "utf8"), creds1);
        const info = JSON.parse(await readFile(join(data.path, "stack.json"), "utf8"));
        assert.equal(info.oemCa.oemId, ca1);
        assert.equal(info.baseUrl, up.baseUrl);
        // The old admin token, the devices' state, access, profile and verdicts, as they were.
        assert.deepEqual([await lookup(made.imei), await lookup(tampered.imei)], before);
        const r = await runCli([
          "carrier",
          "lookup",
          made.imei,
          "--stack",
          data.path,
          "--carrier",
          "acme",
          "--json",
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout.toString()).kid, made.kid);
        assert.deepEqual(await audit(), chain, "the audit chain is the same, and intact");

        // The DM account issued before the restart still opens a session (its credentials and
        // rotated nonces were kept on both sides).
        const device = await openDevice(d1);
        try {
          const dm = await (await DeviceDmClient.open(d1, device)).session({
            trigger: "profile-change",
          });
          assert.equal(dm.alertStatus, 200);
          assert.equal(dm.profile?.access, "full");
        } finally {
          await device.close();
        }
        const after = await lookup(made.imei);
        assert.equal(after.state, "provisioned");
        assert.equal(after.networkAccess, "full");
      } finally {
        assert.equal(await up.stop(), 0);
      }
    } finally {
      await data.remove();
      await devices.remove();
    }
  });
});
