/**
 * The load generator's HTTP client: node:http over keep-alive sockets, one pool per origin,
 * as many sockets as the concurrency. The same client drives the activations and the bare
 * hello-world server, so their ratio compares servers rather than clients.
 */
import { Agent, request } from "node:http";
import type { DmTransport } from "../../src/omadm/session/transport.js";

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export class BenchHttp {
  readonly #agent: Agent;

  constructor(concurrency: number) {
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: concurrency,
      maxFreeSockets: concurrency,
    });
  }

  post(
    url: string,
    body: Uint8Array | string,
    headers: Record<string, string>,
  ): Promise<HttpAnswer> {
    const u = new URL(url);
    const bytes = typeof body === "string" ? Buffer.from(body) : body;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname + u.search,
          method: "POST",
          agent: this.#agent,
          headers: { ...headers, "content-length": String(bytes.length) },
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on("data", (c: Buffer) => parts.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(parts),
            }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(bytes);
    });
  }

  async postJson<T>(url: string, json: unknown, token?: string): Promise<T> {
    const r = await this.post(url, JSON.stringify(json), {
      "content-type": "application/json",
      accept: "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    });
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
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.headers)) {
        if (typeof v === "string") headers[k.toLowerCase()] = v;
      }
      return {
        body: new Uint8Array(r.body.buffer, r.body.byteOffset, r.body.length),
        mediaType: headers["content-type"] ?? "",
        headers,
      };
    };
  }

  close(): void {
    this.#agent.destroy();
  }
}
