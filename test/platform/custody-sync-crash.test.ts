// A carrier killed (SIGKILL) right after a block committed and before anything was delivered:
// the event waits in its outbox, and the restarted `dmguard up` delivers it to the platform.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { manufacture, startUp, tempDir } from "../cli/stack-support.js";
import { runCli } from "../support/cli.js";

test("a crash after a committed block: delivered to the platform after the restart", async () => {
  const data = await tempDir("sync-crash");
  const devices = await tempDir("sync-crash-dev");
  let up = await startUp(["--data", data.path], 20_000, {
    DMGUARD_CRASH_AT: "carrier.admin.status-committed",
  });
  const port = new URL(up.baseUrl).port;
  try {
    const m = await manufacture(data.path, join(devices.path, "d"), ["--carrier", "globex"]);
    const r = await runCli([
      "carrier",
      "block",
      m.imei,
      "--stack",
      data.path,
      "--carrier",
      "globex",
    ]);
    assert.notEqual(r.code, 0, "the stack died before answering");
    await up.exited;
    assert.equal(up.signal(), "SIGKILL");

    up = await startUp(["--data", data.path, "--port", port]);
    const creds = JSON.parse(await readFile(join(data.path, "credentials.json"), "utf8"));
    const token: string = creds.platformTokens["carrier:globex"];
    // What the platform holds, asked with a probe that never changes a status or a version.
    const held = async () => {
      const res = await fetch(`${up.baseUrl}/platform/custody/globex/devices/${m.imei}/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ event: "activated", activatedAt: "2999-01-01T00:00:00.000Z" }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as { status: string; version: number };
    };
    let seen = await held();
    for (let i = 0; i < 100 && seen.version === 0; i++) {
      await new Promise((ok) => setTimeout(ok, 100));
      seen = await held();
    }
    assert.deepEqual([seen.status, seen.version], ["blocked", 1]);
    const lookup = await runCli([
      "carrier",
      "lookup",
      m.imei,
      "--stack",
      data.path,
      "--carrier",
      "globex",
      "--json",
    ]);
    assert.equal(JSON.parse(lookup.stdout.toString()).status, "blocked");
    const audit = await runCli(["audit", "verify", "--stack", data.path]);
    assert.equal(audit.code, 0, audit.stdout.toString());
  } finally {
    await up.stop();
    await data.remove();
    await devices.remove();
  }
});
