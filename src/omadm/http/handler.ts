/**
 * A node:http request handler for a DM server engine: usable as `http.createServer(handler)`,
 * inside any node:http server, or from a fastify route (`reply.hijack()` then
 * `handler(request.raw, reply.raw)`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HMAC_HEADER } from "../auth/hmac.js";
import { DEFAULT_LIMITS } from "../errors.js";
import type { DmServer } from "../session/server.js";
import { BodyTooLargeError, readBody } from "./body.js";
import { exchange } from "./exchange.js";

export interface DmHttpHandlerOptions {
  /** Largest request body accepted (default: the engine's decoding limit, 1 MiB unless set). */
  readonly maxBodyBytes?: number;
  /** Told about unexpected failures (never shown to the client). */
  readonly onError?: (err: unknown) => void;
}

export type DmHttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function createDmHttpHandler(
  engine: DmServer,
  opts: DmHttpHandlerOptions = {},
): DmHttpHandler {
  const limit = opts.maxBodyBytes ?? engine.limits.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  return async (req, res) => {
    try {
      let body: Uint8Array;
      try {
        body = await readBody(req, limit);
      } catch (err) {
        if (!(err instanceof BodyTooLargeError)) throw err;
        res.writeHead(413, { "content-type": "text/plain; charset=utf-8", connection: "close" });
        res.end("request body too large\n");
        return;
      }
      const mac = req.headers[HMAC_HEADER];
      const reply = await exchange(engine, {
        method: req.method ?? "GET",
        contentType: req.headers["content-type"],
        hmacHeader: Array.isArray(mac) ? mac[0] : mac,
        body,
      });
      res.writeHead(reply.status, {
        ...reply.headers,
        "content-length": String(reply.body.length),
      });
      res.end(reply.body);
    } catch (err) {
      opts.onError?.(err);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end("internal error\n");
    }
  };
}
