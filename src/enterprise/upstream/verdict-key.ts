import type { JWK } from "jose";
import { fetchWithTimeout } from "../../omadm/http/timed-fetch.js";
import { EnterpriseError } from "../errors.js";
import type { Lazy, Upstream } from "../options.js";

/** How the MDAS reaches its upstreams (the context's fetch and timeout). */
export interface UpstreamIo {
  readonly fetch: typeof fetch;
  readonly upstreamTimeoutMs: number;
}

const get = <T>(v: Lazy<T>): T => (typeof v === "function" ? (v as () => T)() : v);

/**
 * The key an upstream signs its verdicts for `carrier` with: the one pinned in the
 * configuration (`verdictKey`), or else fetched from the upstream — the carrier server's
 * `GET /carriers/{id}/verdict-key`, or the platform's `GET /platform/carriers/{id}/verdict-key`
 * (its key in that carrier's custody) — and kept for the process's life. `refresh` fetches
 * again (after a key rotation); a pinned key is never replaced.
 */
export class VerdictKeys {
  readonly #cache = new Map<string, Promise<JWK>>();

  async keyFor(
    ctx: UpstreamIo,
    u: Upstream,
    carrier: string,
    refresh = false,
  ): Promise<{ jwk: JWK; pinned: boolean }> {
    if (u.verdictKey) return { jwk: u.verdictKey, pinned: true };
    let p = refresh ? undefined : this.#cache.get(carrier);
    if (!p) {
      p = fetchKey(ctx, u, carrier);
      this.#cache.set(carrier, p);
      // A failed fetch is not remembered: the next activation tries again.
      p.catch(() => this.#cache.delete(carrier));
    }
    return { jwk: await p, pinned: false };
  }
}

async function fetchKey(ctx: UpstreamIo, u: Upstream, carrier: string): Promise<JWK> {
  const base = get(u.baseUrl).replace(/\/+$/, "");
  const c = encodeURIComponent(carrier);
  const url =
    u.kind === "carrier"
      ? `${base}/carriers/${c}/verdict-key`
      : `${base}/platform/carriers/${c}/verdict-key`;
  let body: unknown;
  try {
    body = await fetchWithTimeout(
      ctx.fetch,
      url,
      { headers: { accept: "application/json" } },
      ctx.upstreamTimeoutMs,
      async (res) => {
        if (!res.ok) throw new Error(String(res.status));
        return res.json();
      },
    );
  } catch {
    throw new EnterpriseError(
      "UPSTREAM_UNAVAILABLE",
      `the ${u.kind} server's verdict key could not be fetched`,
    );
  }
  const jwk = (body as { jwk?: unknown } | null)?.jwk;
  if (typeof jwk !== "object" || jwk === null || "d" in jwk) {
    throw new EnterpriseError("UPSTREAM_UNAVAILABLE", `the ${u.kind} server sent no verdict key`);
  }
  return jwk as JWK;
}
