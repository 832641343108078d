// `dmguard device activate|status|dm-account` as a user runs them: a child process (from the
// sources, through tsx) against the real carrier on port 0. Exit codes and output per CONTRACT.md.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { makeLab, manufacture } from "../carrier/helpers.js";
import { useCarrierLab } from "./helpers.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function dmguard(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, DEBUG: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString("utf8");
    });
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString("utf8");
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function oneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
}

const lab = useCarrierLab(makeLab);

/** A registered device whose TSZ this process has let go of, for the CLI to open. */
async function fresh(): Promise<{ dir: string; imei: string }> {
  const { device, dir, record } = await manufacture(lab);
  await device.close();
  return { dir, imei: record.imei };
}

describe("dmguard device activate (CLI)", () => {
  test("approved: exit 0, one JSON document; status and dm-account show the result", async () => {
    const { dir, imei } = await fresh();
    const r = await dmguard("device", "activate", dir, "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out.verdict, "approved");
    assert.equal(out.toggleKey, 0);
    assert.equal(out.networkAccess, "full");
    assert.equal(out.via, "carrier:acme");
    assert.equal((out.profile as { access: string }).access, "full");

    const s = await dmguard("device", "status", dir, "--json");
    assert.equal(s.code, 0, s.stderr);
    const status = JSON.parse(s.stdout) as Record<string, unknown>;
    assert.deepEqual(status.profile, out.profile);
    assert.equal((status.lastVerdict as { verdict: string }).verdict, "approved");

    const a = await dmguard("device", "dm-account", dir, "--json");
    assert.equal(a.code, 0, a.stderr);
    const acc = JSON.parse(a.stdout) as { serverUri: string; client: { name: string } };
    assert.equal(acc.client.name, `IMEI:${imei}`);
    assert.match(acc.serverUri, /\/carriers\/acme\/dm$/);
  });

  test("denied: exit 3, the verdict on stdout, one line on stderr", async () => {
    const { dir } = await fresh();
    const t = await dmguard("device", "tamper", dir, "os-image");
    assert.equal(t.code, 0, t.stderr);
    const r = await dmguard("device", "activate", dir, "--json", "--trigger", "new-network");
    assert.equal(r.code, 3, r.stderr);
    const out = JSON.parse(r.stdout) as { verdict: string; reasons: string[]; profile: unknown };
    assert.equal(out.verdict, "denied");
    assert.deepEqual(out.reasons, ["OS_MODIFIED"]);
    assert.equal(out.profile, null);
    oneLine(r.stderr, /not approved by acme: OS_MODIFIED/);
  });

  test("errors: unreachable → 1, no such enterprise → 1, bad --via or --trigger → 2", async () => {
    const { dir } = await fresh();
    const down = await dmguard(
      "device",
      "activate",
      dir,
      "--json",
      "--server",
      "http://127.0.0.1:1",
    );
    assert.equal(down.code, 1);
    assert.equal(down.stdout, "");
    oneLine(
      down.stderr,
      /^dmguard: SERVER_UNREACHABLE: cannot reach carrier acme at http:\/\/127\.0\.0\.1:1\//,
    );
    const ent = await dmguard("device", "activate", dir, "--via", "enterprise:initech");
    assert.equal(ent.code, 1);
    // This lab serves no MDAS: the enterprise's route answers 404, said in one line.
    oneLine(ent.stderr, /SERVER_REFUSED: enterprise initech answered HTTP 404/);
    const via = await dmguard("device", "activate", dir, "--via", "acme");
    assert.equal(via.code, 2);
    oneLine(via.stderr, /--via must be carrier:ID or enterprise:ID/);
    const trig = await dmguard("device", "activate", dir, "--trigger", "reboot");
    assert.equal(trig.code, 2);
    oneLine(trig.stderr, /unknown trigger "reboot"/);
    // None of it changed the device.
    const s = JSON.parse((await dmguard("device", "status", dir, "--json")).stdout) as {
      toggleKey: number;
      lastVerdict: unknown;
    };
    assert.equal(s.toggleKey, 1);
    assert.equal(s.lastVerdict, null);
  });
});
