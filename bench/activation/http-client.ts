/**
 * The load generator's HTTP client: undici's connection pools over keep-alive sockets, one pool
 * per origin, as many connections as the concurrency, one request at a time on each. The same
 * client drives the activations and the bare hello-world server, so their ratio compares
 * servers rather than clients.
 *
 * undici rather than node:http's client: on the machine that runs the server being measured,
 * node:http's client spent about as much CPU per request as a small server spends answering it.
 */
import { Pool } from "undici";
import type { DmTransport } from "../../src/omadm/session/transport.js";

export interface HttpAnswer {
  status: number;
  /** Header names in lower case; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

const JSON_HEADERS: Record<string, string> = {
  "content-type": "application/json",
  accept: "application/json",
};

export class BenchHttp {
  readonly #concurrency: number;
  readonly #pools = new Map<string, Pool>();
  #requests = 0;

  constructor(concurrency: number) {
    this.#concurrency = concurrency;
  }

  /** Requests sent so far. */
  get requests(): number {
    return this.#requests;
  }

  #pool(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.#concurrency,
        pipelining: 1,
        keepAliveTimeout: 60_000,
      });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  async post(
    url: string,
    body: Uint8Array | string,
    headers: Record<string, string>,
  ): Promise<HttpAnswer> {
    const u = new URL(url);
    if (u.protocol !== "http:") throw new Error(`only http: URLs, not ${url}`);
    this.#requests++;
    const r = await this.#pool(u.origin).request({
      method: "POST",
      path: u.pathname + u.search,
      headers,
      body,
    });
    const answer: Record<string, string> = {};
    for (const [name, value] of Object.entries(r.headers)) {
      if (value !== undefined) answer[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    return {
      status: r.statusCode,
      headers: answer,
      body: Buffer.from(await r.body.arrayBuffer()),
    };
  }

  async postJson<T>(url: string, json: unknown, token?: string): Promise<T> {
    const r = await this.post(
      url,
      JSON.stringify(json),
      token ? { ...JSON_HEADERS, authorization: `Bearer ${token}` } : JSON_HEADERS,
    );
    if (r.status !== 200 && r.status !== 201) {
      throw new Error(`POST ${url} answered ${r.status}: ${r.body.toString("utf8").slice(0, 300)}`);
    }
    return JSON.parse(r.body.toString("utf8")) as T;
  }

  /** The omadm client's transport over this client (what fetchTransport does over fetch). */
  dmTransport(): DmTransport {
    return async (req) => {
      const r = await this.post(req.url, req.body, {
        "content-type": req.mediaType,
        accept: req.mediaType,
        ...req.headers,
      });
      if (r.status !== 200) throw new Error(`DM server answered HTTP ${r.status}`);
      return {
        body: new Uint8Array(r.body.buffer, r.body.byteOffset, r.body.length),
        mediaType: r.headers["content-type"] ?? "",
        headers: r.headers,
      };
    };
  }

  close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    return Promise.all(pools.map((p) => p.close())).then(() => undefined);
  }
}
