/**
 * The `dmguard` command. Errors become one line on stderr and the exit code CONTRACT.md gives;
 * a stack trace only when DEBUG is set.
 */
import { Command, CommanderError } from "commander";
import { registerAudit } from "./commands/audit.js";
import { registerCarrierCommands } from "./commands/carrier.js";
import { registerDevice } from "./commands/device.js";
import { registerEnterpriseCommands } from "./commands/enterprise.js";
import { registerFleet } from "./commands/fleet.js";
import { registerManufacture } from "./commands/manufacture.js";
import { serveCommand } from "./commands/serve.js";
import { registerSyncml } from "./commands/syncml.js";
import { registerUp } from "./commands/up.js";
import { CliError, ExitCode } from "./exit.js";

export function buildProgram(): Command {
  const program = new Command("dmguard")
    .description("verification of mobile device integrity during activation (US 9,226,145)")
    .version(process.env.npm_package_version ?? "0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerUp(program);
  serveCommand(program);
  registerDevice(program);
  registerManufacture(program);
  registerCarrierCommands(program);
  registerEnterpriseCommands(program);
  registerAudit(program);
  registerFleet(program);
  registerSyncml(program);
  for (const sub of program.commands) sub.exitOverride();
  for (const sub of program.commands.flatMap((c) => c.commands)) sub.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: "user" });
    return ExitCode.OK;
  } catch (err) {
    return report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // Help and version end through exitOverride with code 0; commander already printed them.
    if (err.exitCode === 0) return ExitCode.OK;
    return ExitCode.USAGE;
  }
  if (process.env.DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  if (err instanceof CliError) {
    process.stderr.write(`dmguard: ${err.message}\n`);
    return err.exitCode;
  }
  if (isPartError(err)) {
    process.stderr.write(`dmguard: ${err.code}: ${err.message}\n`);
    return ExitCode.RUNTIME;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`dmguard: unexpected error: ${message}\n`);
  return ExitCode.RUNTIME;
}

/**
 * The parts' typed errors (DeviceError, ProtocolError, StoreError, KeystoreError…): a class name and a
 * stable upper-case `code`, and a message safe to show. Recognised by shape, so this module
 * does not load every part just to name their classes; Node's own errors are named "Error".
 */
function isPartError(err: unknown): err is Error & { code: string } {
  if (!(err instanceof Error) || err.name === "Error") return false;
  const code: unknown = (err as Error & { code?: unknown }).code;
  return typeof code === "string" && /^[A-Z][A-Z0-9_]*$/.test(code);
}
