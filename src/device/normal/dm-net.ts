/**
 * What went wrong with a request that never got an HTTP answer, in a few words: Node's fetch
 * throws `TypeError("fetch failed")` with the socket error as its `cause`, and a timeout is a
 * `TimeoutError` DOMException. Used for one-line messages; never includes a request body.
 */
export function networkCause(err: unknown): string | null {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return "timed out";
  }
  if (!(err instanceof TypeError)) return null;
  const cause = (err as TypeError & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    // AggregateError (happy eyeballs) carries the code on itself or on its first error.
    const inner = (cause as Partial<AggregateError>).errors?.[0] as
      | NodeJS.ErrnoException
      | undefined;
    return code ?? inner?.code ?? (cause.message || err.message);
  }
  return err.message;
}
