/**
 * One HTTP call with a timeout that covers reading the answer, and no timer left behind.
 *
 * `AbortSignal.timeout(ms)` keeps its timer, and with it the signal and what listens to it,
 * for the full `ms` after the call has ended: a server making a call per activation holds
 * thousands of them. Here the timer is cleared as soon as `read` has settled. It lives in the
 * HTTP binding because every part that calls out over HTTP may import omadm (the device, the
 * servers, this binding's own client), which holds no other dependency of theirs.
 */

/**
 * Calls `fetchFn(url, init)` and hands the answer to `read`, all within `timeoutMs`; resolves
 * with what `read` returns. On timeout the call, or the body being read, fails with the error
 * `AbortSignal.timeout` gives (a DOMException named TimeoutError), so callers judge it the same
 * way. A body `read` left unread is cancelled: with no timer to abort it, it would hold its
 * connection until collected.
 */
export async function fetchWithTimeout<T>(
  fetchFn: typeof fetch,
  url: string,
  init: Omit<RequestInit, "signal">,
  timeoutMs: number,
  read: (res: Response) => Promise<T>,
): Promise<T> {
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")),
    timeoutMs,
  );
  // Not unref'd, unlike AbortSignal.timeout's: Node 20's fetch can hang for good, holding no
  // handle, when the server closes the connection before answering, and then this timer is
  // all that ends the call. Unref'd, a process with nothing else to wait for (the command
  // line) exited 13 mid-call, printing nothing. Settled calls clear it at once.
  let res: Response | undefined;
  try {
    res = await fetchFn(url, { ...init, signal: abort.signal });
    return await read(res);
  } finally {
    clearTimeout(timer);
    if (res?.body && !res.bodyUsed) await res.body.cancel().catch(() => {});
  }
}
