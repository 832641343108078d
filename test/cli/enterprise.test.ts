// Activation through the enterprise MDAS initech against a running `up` (issue 5), as a user runs
// it: manufacture --enterprise enrols the device (and deposits it in its carrier's custody at the
// platform), `device activate --via enterprise:initech` reports the MDAS's decision, `enterprise
// unenroll` takes eligibility away, and every part's audit log stays intact.
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runCli } from "../support/cli.js";
import { manufacture, oneLine, startUp, tempDir, type UpProcess } from "./stack-support.js";

interface Activation {
  verdict: string;
  reasons: string[];
  toggleKey: number;
  networkAccess: string;
  carrier: string;
  via: string;
  profile: { enterprise: string; userGroup: string; apps: string[] } | null;
}

describe("activation through enterprise initech (CLI, up)", { concurrency: true }, () => {
  let data: Awaited<ReturnType<typeof tempDir>>;
  let devices: Awaited<ReturnType<typeof tempDir>>;
  let up: UpProcess;
  const activate = async (dir: string) => {
    const r = await runCli(["device", "activate", dir, "--via", "enterprise:initech", "--json"]);
    return { ...r, out: JSON.parse(r.stdout.toString() || "null") as Activation };
  };

  before(async () => {
    data = await tempDir("ent");
    devices = await tempDir("ent-dev");
    up = await startUp(["--data", data.path]);
  });
  after(async () => {
    await up.stop();
    await data.remove();
    await devices.remove();
  });

  test("up serves the platform and initech; tenant tokens kept 0600", async () => {
    assert.match(up.stdout(), /platform\s+platform\s+http:\/\/\S+\/platform$/m);
    assert.match(up.stdout(), /enterprise initech\s+http:\/\/\S+\/enterprises\/initech$/m);
    const t = await fetch(`${up.baseUrl}/platform/transport-key`);
    assert.equal(t.status, 200);
    const n = await fetch(`${up.baseUrl}/enterprises/initech/activation/nonce`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ carrier: "globex" }),
    });
    assert.equal(n.status, 200, await n.clone().text());
    const creds = join(data.path, "credentials.json");
    assert.equal((await stat(creds)).mode & 0o777, 0o600);
    const c = JSON.parse(await readFile(creds, "utf8"));
    assert.deepEqual(Object.keys(c.platformTokens).sort(), [
      "carrier:acme",
      "carrier:globex",
      "enterprise:initech",
    ]);
    assert.ok(c.adminTokens.platform && c.adminTokens["enterprise:initech"]);
  });

  for (const [carrier, group, app] of [
    ["acme", "executive", "board-portal"],
    ["globex", "technology", "ssh-client"],
  ] as const) {
    test(`${carrier}, enrolled ${group}: approved with the group's content`, async () => {
      const dir = join(devices.path, `enrolled-${carrier}`);
      const m = await manufacture(data.path, dir, [
        "--carrier",
        carrier,
        "--enterprise",
        "initech",
        "--user-group",
        group,
      ]);
      assert.equal((m as unknown as { deposited: boolean }).deposited, true);
      const r = await activate(dir);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.out.verdict, "approved");
      assert.deepEqual(r.out.reasons, []);
      assert.equal(r.out.networkAccess, "full");
      assert.equal(r.out.via, "enterprise:initech");
      assert.equal(r.out.carrier, carrier);
      assert.equal(r.out.profile?.enterprise, "initech");
      assert.equal(r.out.profile?.userGroup, group);
      assert.ok(r.out.profile?.apps.includes(app));

      // Unenrolled: the next activation is NOT_ENROLLED, limited, and the content is withdrawn.
      const u = await runCli([
        "enterprise",
        "unenroll",
        m.imei,
        "--stack",
        data.path,
        "--enterprise",
        "initech",
      ]);
      assert.equal(u.code, 0, u.stderr);
      const again = await activate(dir);
      assert.equal(again.code, 3, again.stderr);
      assert.deepEqual(again.out.reasons, ["NOT_ENROLLED"]);
      assert.equal(again.out.networkAccess, "limited");
      assert.equal(again.out.profile, null);

      // Enrolled again (by command, another group): approved again.
      const e = await runCli([
        "enterprise",
        "enroll",
        m.imei,
        "--stack",
        data.path,
        "--enterprise",
        "initech",
        "--user-group",
        "worker",
        "--json",
      ]);
      assert.equal(e.code, 0, e.stderr);
      const third = await activate(dir);
      assert.equal(third.code, 0, third.stderr);
      assert.equal(third.out.profile?.userGroup, "worker");
    });
  }

  test("not enrolled: exit 3, NOT_ENROLLED, limited, one line on stderr", async () => {
    const dir = join(devices.path, "stranger");
    await manufacture(data.path, dir, ["--carrier", "globex"]);
    const r = await activate(dir);
    assert.equal(r.code, 3);
    assert.equal(r.out.verdict, "denied");
    assert.deepEqual(r.out.reasons, ["NOT_ENROLLED"]);
    assert.equal(r.out.networkAccess, "limited");
    assert.equal(r.out.profile, null);
    assert.match(oneLine(r.stderr), /not approved via enterprise:initech: NOT_ENROLLED/);
  });

  test("device status after --via enterprise shows what activate showed", async () => {
    for (const [name, extra, code] of [
      ["status-denied", [] as string[], 3],
      ["status-approved", ["--enterprise", "initech", "--user-group", "worker"], 0],
    ] as const) {
      const dir = join(devices.path, name);
      await manufacture(data.path, dir, ["--carrier", "acme", ...extra]);
      const r = await activate(dir);
      assert.equal(r.code, code, r.stderr);
      const st = await runCli(["device", "status", dir, "--json"]);
      assert.equal(st.code, 0, st.stderr);
      const status = JSON.parse(st.stdout.toString()) as {
        toggleKey: number;
        networkAccess: string;
        activeCarrier: string | null;
        profile: unknown;
        lastVerdict: Activation;
      };
      const { verdict, reasons, toggleKey, networkAccess, carrier, via, profile } = r.out;
      assert.deepEqual(status.lastVerdict, {
        verdict,
        reasons,
        toggleKey,
        networkAccess,
        carrier,
        via,
        profile,
      });
      assert.equal(status.networkAccess, networkAccess);
      assert.deepEqual(status.profile, profile);
      assert.equal(status.activeCarrier, verdict === "approved" ? "acme" : null);
      // The TSZ's toggle key reflects integrity only: 0 for a genuine device either way.
      assert.equal(status.toggleKey, 0);
      if (code === 3) assert.deepEqual(status.lastVerdict.reasons, ["NOT_ENROLLED"]);
      else assert.equal(status.lastVerdict.profile?.userGroup, "worker");
    }
  });

  test("carrier block|unblock|terminate reach the platform's custody (globex via initech)", async () => {
    const dir = join(devices.path, "synced");
    const m = await manufacture(data.path, dir, [
      "--carrier",
      "globex",
      "--enterprise",
      "initech",
      "--user-group",
      "worker",
    ]);
    const carrier = (action: string) =>
      runCli(["carrier", action, m.imei, "--stack", data.path, "--carrier", "globex"]);
    // The platform judges globex's devices for initech: its answer shows the carrier's marks
    // once the carrier's outbox delivered them (moments after the command; retried until then).
    const judged = async (want: string[]) => {
      let last: Activation | null = null;
      for (let i = 0; i < 20; i++) {
        last = (await activate(dir)).out;
        if (JSON.stringify(last.reasons) === JSON.stringify(want)) return last;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.fail(`wanted ${want.join(",") || "no reasons"}, got ${JSON.stringify(last)}`);
    };
    assert.equal((await judged([])).verdict, "approved");
    assert.equal((await carrier("block")).code, 0);
    assert.equal((await judged(["DEVICE_BLOCKED"])).networkAccess, "limited");
    assert.equal((await carrier("unblock")).code, 0);
    assert.equal((await judged([])).verdict, "approved");
    assert.equal((await carrier("terminate")).code, 0);
    await judged(["DEVICE_TERMINATED"]);
  });

  test("the same device still activates with its carrier directly", async () => {
    const dir = join(devices.path, "direct");
    await manufacture(data.path, dir, ["--carrier", "globex"]);
    const r = await runCli(["device", "activate", dir, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.toString()).via, "carrier:globex");
  });

  test("enterprise commands: unknown enterprise → 1, bad IMEI → 2", async () => {
    const bad = await runCli([
      "enterprise",
      "enroll",
      "359991010000012",
      "--stack",
      data.path,
      "--enterprise",
      "hooli",
    ]);
    assert.equal(bad.code, 1);
    assert.match(oneLine(bad.stderr), /no enterprise "hooli"/);
    const usage = await runCli([
      "enterprise",
      "unenroll",
      "12",
      "--stack",
      data.path,
      "--enterprise",
      "initech",
    ]);
    assert.equal(usage.code, 2);
  });
});

describe("audit verify covers the platform and the enterprise", () => {
  test("--part platform and --part enterprise:initech exit 0 after activations", async () => {
    const data = await tempDir("ent-audit");
    const devices = await tempDir("ent-audit-dev");
    const up = await startUp(["--data", data.path]);
    try {
      const dir = join(devices.path, "d");
      await manufacture(data.path, dir, [
        "--carrier",
        "globex",
        "--enterprise",
        "initech",
        "--user-group",
        "worker",
      ]);
      const r = await runCli(["device", "activate", dir, "--via", "enterprise:initech"]);
      assert.equal(r.code, 0, r.stderr);
      for (const part of ["platform", "enterprise:initech"]) {
        const a = await runCli(["audit", "verify", "--stack", data.path, "--part", part, "--json"]);
        assert.equal(a.code, 0, a.stderr);
        const doc = JSON.parse(a.stdout.toString());
        assert.equal(doc.parts[0].part, part);
        assert.ok(doc.parts[0].entries > 0, `${part} has entries`);
      }
    } finally {
      await up.stop();
      await data.remove();
      await devices.remove();
    }
  });

  test("a restart of up keeps the platform's and initech's tokens", async () => {
    const data = await tempDir("ent-restart");
    try {
      let up = await startUp(["--data", data.path]);
      await up.stop();
      const before = await readFile(join(data.path, "credentials.json"), "utf8");
      up = await startUp(["--data", data.path]);
      await up.stop();
      assert.equal(await readFile(join(data.path, "credentials.json"), "utf8"), before);
    } finally {
      await data.remove();
    }
  });
});
