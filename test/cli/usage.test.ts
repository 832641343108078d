import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { runCli } from "../support/cli.js";
import { oneLine, startUp, tempDir } from "./stack-support.js";

describe("usage and missing stacks", { concurrency: true }, () => {
  test("bad flags: exit 2", async () => {
    const cases = [
      ["device", "manufacture", "/tmp/x", "--stack", "/tmp/x", "--carrier", "acme", "--slots", "7"],
      ["device", "manufacture", "/tmp/x", "--stack", "/tmp/x", "--carrier", "Not An Id"],
      ["device", "manufacture", "/tmp/x", "--stack", "/tmp/x", "--carrier", "acme", "--imei", "12"],
      [
        "device",
        "manufacture",
        "/tmp/x",
        "--stack",
        "/tmp/x",
        "--carrier",
        "acme",
        "--contract-end",
        "2030-02-30",
      ],
      ["carrier", "block", "not-an-imei", "--stack", "/tmp/x", "--carrier", "acme"],
      ["up", "--port", "70000"],
      ["audit", "verify", "--stack", "/tmp/x", "--part", "someone"],
      ["serve", "carrier"],
    ];
    const results = await Promise.all(cases.map((args) => runCli(args)));
    results.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i]!.join(" ")}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    });
  });

  test("a device's bad --via, --to or --server: exit 2 naming the flag, the device unread", async () => {
    // No such device folder: the flags are refused before the device is opened.
    const cases: Array<[string[], RegExp]> = [
      [
        ["device", "activate", "/nowhere/d", "--via", "bogus"],
        /--via must be carrier:ID or enterprise:ID/,
      ],
      [
        ["device", "activate", "/nowhere/d", "--server", "notaurl"],
        /the server URL "notaurl" is not a URL/,
      ],
      [["device", "activate", "/nowhere/d", "--server", "ftp://h.example"], /not http or https/],
      [
        ["device", "migrate", "/nowhere/d", "--to", "bogus"],
        /^dmguard: --to must be carrier:ID \(ID: [^)]*\), not "bogus"$/,
      ],
      [
        ["device", "migrate", "/nowhere/d", "--to", "enterprise:initech"],
        /^dmguard: --to must be carrier:ID \(/,
      ],
      [
        ["device", "migrate", "/nowhere/d", "--to", "carrier:globex", "--server", "notaurl"],
        /the server URL "notaurl" is not a URL/,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((r, i) => {
      const [args, message] = cases[i]!;
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(oneLine(r.stderr), message, args.join(" "));
    });
  });

  test("--stack pointing nowhere: exit 1, one line", async () => {
    const nowhere = await tempDir("nowhere");
    try {
      const cases = [
        ["device", "manufacture", join(nowhere.path, "d"), "--carrier", "acme"],
        ["carrier", "terminate", "359991010000012", "--carrier", "acme"],
        ["audit", "verify"],
      ];
      const results = await Promise.all(
        cases.map((args) => runCli([...args, "--stack", join(nowhere.path, "none")])),
      );
      results.forEach((r, i) => {
        assert.equal(r.code, 1, `${cases[i]!.join(" ")}: ${r.stderr}`);
        assert.match(oneLine(r.stderr), /no dmguard stack in .*none/);
      });
    } finally {
      await nowhere.remove();
    }
  });

  test("a stack folder whose stack is not running: exit 1, one line", async () => {
    const data = await tempDir("stopped");
    try {
      const up = await startUp(["--data", data.path]);
      await up.stop();
      const r = await runCli([
        "carrier",
        "block",
        "359991010000012",
        "--stack",
        data.path,
        "--carrier",
        "acme",
      ]);
      assert.equal(r.code, 1);
      assert.match(oneLine(r.stderr), /not reachable.*is it running/);
    } finally {
      await data.remove();
    }
  });
});
