/**
 * Named crash points for the crash tests (issue 4's "a server killed in the middle of an
 * activation", issue 6's migration crash matrix). A process started with
 * `DMGUARD_CRASH_AT=<name>` kills itself with SIGKILL the first time it reaches
 * `crashPoint(<name>)`: no `finally`, no exit handlers, no flush, as a power cut or the OOM
 * killer would. Without the variable (production) a crash point is one string comparison.
 *
 * Names are `<part>.<flow>.<step>`, e.g. `carrier.activation.after-commit`; each part lists its
 * points next to the flow that reaches them, and the tests drive every listed point.
 */
const armed = process.env.DMGUARD_CRASH_AT;

export function crashPoint(name: string): void {
  if (armed !== undefined && armed === name) process.kill(process.pid, "SIGKILL");
}

/** Whether some crash point is armed in this process (tests assert a run was armed). */
export function crashArmed(): string | null {
  return armed ?? null;
}
