import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
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
  test("keeps the CA, the admin tokens and the inventory; SIGTERM exits 0", async () => {
    const data = await tempDir("restart");
    const devices = await tempDir("restart-dev");
    try {
      let up = await startUp(["--data", data.path]);
      const made = await manufacture(data.path, join(devices.path, "d1"), ["--carrier", "acme"]);
      const creds1 = await readFile(join(data.path, "credentials.json"), "utf8");
      const ca1 = JSON.parse(await readFile(join(data.path, "stack.json"), "utf8")).oemCa.oemId;
      assert.equal(await up.stop(), 0);
      assert.match(up.stderr(), /stopping/);

      up = await startUp(["--data", data.path]);
      try {
        assert.match(up.stdout(), /reused/);
        assert.equal(await readFile(join(data.path, "credentials.json"), "utf8"), creds1);
        const info = JSON.parse(await readFile(join(data.path, "stack.json"), "utf8"));
        assert.equal(info.oemCa.oemId, ca1);
        assert.equal(info.baseUrl, up.baseUrl);
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
      } finally {
        assert.equal(await up.stop(), 0);
      }
    } finally {
      await data.remove();
      await devices.remove();
    }
  });
});
