// A carrier's migration policy as the platform applies it (src/server-kit/migration-policy.ts):
// parsing, and each subsidy lock on both sides of its boundary, with a frozen clock.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { readPlatformConfig } from "../../src/cli/serve/platform-config.js";
import { createOemCa } from "../../src/device/index.js";
import {
  parseSubsidyLock,
  resolvePolicy,
  subsidyLocked,
} from "../../src/server-kit/migration-policy.js";

const DAY_MS = 86_400_000;
const NOW = Date.parse("2026-03-10T12:00:00Z");

describe("migration policy", () => {
  test("parses the three forms and refuses anything else", () => {
    assert.deepEqual(parseSubsidyLock("until-contract-end"), { kind: "until-contract-end" });
    assert.deepEqual(parseSubsidyLock("none"), { kind: "none" });
    assert.deepEqual(parseSubsidyLock("days-after-activation:60"), {
      kind: "days-after-activation",
      days: 60,
    });
    for (const bad of [
      "",
      "days-after-activation",
      "days-after-activation:-1",
      "days-after-activation:3651",
      "forever",
      "DAYS-AFTER-ACTIVATION:60",
    ]) {
      assert.throws(() => parseSubsidyLock(bad), TypeError, bad);
    }
    assert.deepEqual(resolvePolicy(undefined), {
      subsidyLock: { kind: "until-contract-end" },
      terminatedMayPortOut: false,
    });
    assert.equal(resolvePolicy({ terminatedMayPortOut: true }).terminatedMayPortOut, true);
  });

  test("until-contract-end: locked through the day before the end, free on the end date", () => {
    const lock = parseSubsidyLock("until-contract-end");
    assert.equal(subsidyLocked(lock, { contractEnd: "2026-03-11" }, NOW), true);
    assert.equal(subsidyLocked(lock, { contractEnd: "2026-03-10" }, NOW), false);
    assert.equal(subsidyLocked(lock, { contractEnd: "2026-03-09" }, NOW), false);
    assert.equal(subsidyLocked(lock, { contractEnd: null }, NOW), false);
  });

  test("days-after-activation:60: locked until exactly 60 days after activation", () => {
    const lock = parseSubsidyLock("days-after-activation:60");
    const rec = (activatedAt: number | null) => ({ contractEnd: "2999-01-01", activatedAt });
    assert.equal(subsidyLocked(lock, rec(NOW - 60 * DAY_MS + 1), NOW), true);
    assert.equal(subsidyLocked(lock, rec(NOW - 60 * DAY_MS), NOW), false);
    assert.equal(subsidyLocked(lock, rec(NOW), NOW), true);
    // The contract end does not matter under this policy; an unknown date locks.
    assert.equal(subsidyLocked(lock, rec(null), NOW), true);
    assert.equal(subsidyLocked(lock, { contractEnd: null }, NOW), true);
  });

  test("none: never locked", () => {
    assert.equal(subsidyLocked({ kind: "none" }, { contractEnd: "2999-01-01" }, NOW), false);
  });
  test("serve platform: migrationPolicies from the config, a bad one refused by name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "dmguard-policy-"));
    try {
      await writeFile(
        join(dir, "ca.pem"),
        (await createOemCa({ name: "Policy OEM" })).certificatePem,
      );
      const write = async (migrationPolicies: unknown) => {
        const file = join(dir, "platform.json");
        const cfg = {
          dataDir: "data",
          oemCaCertificate: "ca.pem",
          carriers: ["acme"],
          migrationPolicies,
        };
        await writeFile(file, JSON.stringify(cfg));
        return file;
      };
      const ok = await readPlatformConfig(
        await write({
          acme: { subsidyLock: "days-after-activation:60", terminatedMayPortOut: true },
        }),
      );
      assert.deepEqual(ok.migrationPolicies, {
        acme: { subsidyLock: "days-after-activation:60", terminatedMayPortOut: true },
      });
      for (const [bad, word] of [
        [{ acme: { subsidyLock: "days-after-activation:x" } }, "migrationPolicies.acme"],
        [{ acme: { subsidyLock: "none", other: 1 } }, "migrationPolicies.acme"],
        [{ acme: { terminatedMayPortOut: "yes" } }, "migrationPolicies.acme"],
        [{ "Not An Id": {} }, "migrationPolicies keys"],
        [["acme"], "migrationPolicies must be an object"],
      ] as const) {
        await assert.rejects(readPlatformConfig(await write(bad)), (err: Error) =>
          err.message.includes(word),
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
