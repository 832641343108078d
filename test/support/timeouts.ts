/**
 * For the tests of outbound calls' timeouts (src/omadm/http/timed-fetch.ts): which timers a call
 * leaves scheduled, and a loopback server that answers, never answers, or stalls in its body.
 */
import { createHook } from "node:async_hooks";
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Runs `call` and counts the timers of `ms` it started and those still scheduled once it has
 * returned. `process.getActiveResourcesInfo()` cannot tell: it lists only timers that keep the
 * process alive (AbortSignal.timeout's does not), and not by delay. An async hook sees every
 * timer; `_idleTimeout` (Node's own field, set before the hook runs) is the delay, which picks
 * the call's timer out of the sockets' and the server's.
 */
export async function timersOf<T>(
  ms: number,
  call: () => Promise<T>,
): Promise<{ value: T; started: number; pending: number }> {
  const pending = new Set<number>();
  let started = 0;
  const hook = createHook({
    init(id, type, _trigger, resource) {
      if (type !== "Timeout" || (resource as { _idleTimeout?: unknown })._idleTimeout !== ms) {
        return;
      }
      started++;
      pending.add(id);
    },
    destroy(id) {
      pending.delete(id);
    },
  });
  hook.enable();
  try {
    const value = await call();
    // A cleared timer's destroy hook runs from the immediate queue.
    await new Promise((resolve) => setImmediate(resolve));
    return { value, started, pending: pending.size };
  } finally {
    hook.disable();
  }
}

export interface LoopbackServer {
  url: string;
  close(): Promise<void>;
}

/**
 * A server on 127.0.0.1, port 0. Under `/hang/` it never answers; under `/stall/` it sends the
 * status line and the start of a JSON body, then nothing more; elsewhere `answer(method, path)`
 * gives the JSON body of a 200 (undefined: 404).
 */
export async function loopbackServer(
  answer: (method: string, path: string) => unknown,
): Promise<LoopbackServer> {
  const server = createServer((req, res: ServerResponse) => {
    req.resume();
    const path = req.url ?? "/";
    if (path.startsWith("/hang/")) return;
    if (path.startsWith("/stall/")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"nonce":');
      return;
    }
    const body = answer(req.method ?? "GET", path);
    res.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json" });
    res.end(JSON.stringify(body ?? { error: { code: "NOT_FOUND", message: "no such route" } }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
