/**
 * The `dmguard` command. Errors become one line on stderr and the exit code CONTRACT.md gives;
 * a stack trace only when DEBUG is set.
 */
import { Command, CommanderError } from "commander";
import { ProtocolError } from "../omadm/errors.js";
import { registerSyncml } from "./commands/syncml.js";
import { CliError, ExitCode } from "./exit.js";

export function buildProgram(): Command {
  const program = new Command("dmguard")
    .description("verification of mobile device integrity during activation (US 9,226,145)")
    .version(process.env.npm_package_version ?? "0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
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
  if (err instanceof ProtocolError) {
    process.stderr.write(`dmguard: ${err.code}: ${err.message}\n`);
    return ExitCode.RUNTIME;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`dmguard: unexpected error: ${message}\n`);
  return ExitCode.RUNTIME;
}
