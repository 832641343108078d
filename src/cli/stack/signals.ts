/**
 * Graceful shutdown for the long-running commands (`up`, `serve`): the first SIGINT or SIGTERM
 * resolves `promise` and aborts `signal` (so a running demo or fleet stops between devices);
 * the command then closes HTTP, keystore and store itself and returns, and the process ends
 * with exit code 0 because nothing is left running.
 */
export interface Stop {
  promise: Promise<void>;
  signal: AbortSignal;
  dispose(): void;
}

export function untilSignal(): Stop {
  const ctl = new AbortController();
  let done: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    done = resolve;
  });
  const on = () => {
    ctl.abort();
    done();
  };
  process.once("SIGINT", on);
  process.once("SIGTERM", on);
  return {
    promise,
    signal: ctl.signal,
    dispose() {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
    },
  };
}
