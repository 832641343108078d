/**
 * `dmguard device migrate DEVDIR --to carrier:ID [--server URL] [--json]` (CONTRACT.md): the
 * device moves to another carrier (src/device/activation/migrate.ts). Exit codes as activate's:
 * 0 approved (B's key deposited, B's profile in), 3 denied (nothing changed), 1 runtime error.
 */
import type { Command } from "commander";
import {
  isActivationError,
  isDmClientError,
  parseVia,
  serverBase,
} from "../../device/cli-words.js";
import type { MigrationResult } from "../../device/index.js";
import { CliError, ExitCode } from "../exit.js";
import { writeOutput } from "../io.js";
import { usage } from "./device-usage.js";

export function registerDeviceMigrate(device: Command): void {
  device
    .command("migrate")
    .description(
      "verification and migration to another carrier: exit 0 approved, 3 denied, 1 runtime error",
    )
    .argument("<devdir>", "the device's folder")
    .requiredOption("--to <carrier>", "carrier:ID, the new carrier")
    .option("--server <url>", "the stack's base URL (default: the one learned at manufacture)")
    .option("--json", "print one JSON document")
    .action(async (dir: string, opts: { to: string; server?: string; json?: boolean }) => {
      usage(() => parseVia(opts.to, "--to", ["carrier"]));
      if (opts.server !== undefined) usage(() => serverBase(opts.server as string));
      const { migrateDevice, openDevice } = await import("../../device/index.js");
      const d = await openDevice(dir);
      let result: MigrationResult;
      try {
        result = await migrateDevice(d, {
          to: opts.to,
          ...(opts.server !== undefined ? { serverUrl: opts.server } : {}),
        }).catch((err: unknown) => {
          if (isActivationError(err) || isDmClientError(err)) {
            throw new CliError(`${err.code}: ${err.message}`, ExitCode.RUNTIME);
          }
          throw err;
        });
      } finally {
        await d.close();
      }
      await writeOutput(opts.json ? `${JSON.stringify(result)}\n` : describe(result));
      if (result.verdict !== "approved") {
        throw new CliError(
          `not approved by ${result.carrier}: ${result.reasons.join(" ") || "no reason given"}`,
          ExitCode.NOT_APPROVED,
        );
      }
    });
}

function describe(r: MigrationResult): string {
  const lines = [
    `verdict         ${r.verdict} by ${r.carrier} (from ${r.from})${r.reasons.length ? ` (${r.reasons.join(", ")})` : ""}`,
    `toggle key      ${r.toggleKey}`,
    `network access  ${r.networkAccess}`,
  ];
  if (r.slot) {
    lines.push(
      `key slot        ${r.slot.index} (kid ${r.slot.kid}${r.slot.alreadyPresent ? ", already there" : ""})`,
    );
  }
  if (r.profile) lines.push(`profile         ${r.carrier}, ${String(r.profile.access)} access`);
  return `${lines.join("\n")}\n`;
}
