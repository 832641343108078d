/**
 * Exit codes of CONTRACT.md: 0 success, 1 runtime error, 2 usage error, 3 a verdict that is not
 * an approval. Commands throw CliError for expected failures; main() is the only place that turns
 * an error into a message and an exit code.
 */
export const ExitCode = {
  OK: 0,
  RUNTIME: 1,
  USAGE: 2,
  NOT_APPROVED: 3,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class CliError extends Error {
  override readonly name = "CliError";
  readonly exitCode: ExitCodeValue;

  constructor(message: string, exitCode: ExitCodeValue = ExitCode.RUNTIME) {
    super(message);
    this.exitCode = exitCode;
  }
}
