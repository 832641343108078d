import { isActivationError } from "../../device/cli-words.js";
import { CliError, ExitCode } from "../exit.js";

/**
 * Runs a device flag's parse (`--via`, `--to`, `--server`), turning its typed error into a
 * usage error (exit 2, CONTRACT.md) before the device is opened.
 */
export function usage(parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    if (isActivationError(err)) throw new CliError(err.message, ExitCode.USAGE);
    throw err;
  }
}
