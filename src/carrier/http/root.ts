import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { collectDefaultMetrics, Registry } from "prom-client";
import { answerClientError } from "../../server-kit/index.js";
import { CarrierError } from "../errors.js";
import { carrierMetrics } from "../metrics.js";
import { sendError } from "./error-handler.js";
import { loggerOptions } from "./logger.js";
import { baseDocument, type OpenApiDocument } from "./openapi.js";

/** What the parts mounted on one app share: metrics registry, OpenAPI document, health checks. */
export interface RootState {
  readonly registry: Registry;
  readonly openapi: OpenApiDocument;
  readonly healthChecks: Array<{ name: string; check: () => Promise<void> }>;
}

declare module "fastify" {
  interface FastifyInstance {
    dmguard: RootState;
  }
}

export interface RootAppOptions {
  /** pino options (or true); secrets are redacted whatever is given. Default: no logging. */
  logger?: FastifyServerOptions["logger"];
  /** A registry to expose; default a new one with the process metrics. */
  registry?: Registry;
  /** Largest JSON body on routes that do not set their own (default 64 KiB). */
  bodyLimit?: number;
  /**
   * How long a request may take to arrive, headers and body (default 180 s): a client sending
   * its body a byte at a time holds its connection no longer, and gets 408. Long enough for the
   * largest inventory import (256 MiB) at 1.5 MB/s.
   */
  requestTimeoutMs?: number;
}

const REQUEST_TIMEOUT_MS = 180_000;
/**
 * Connections open at once; more are closed as they come. Each holds a file descriptor, which
 * the store and the keystore need too: without a cap, idle connections can take them all.
 */
const MAX_CONNECTIONS = 8_192;

/**
 * The HTTP app that `dmguard up` mounts every part on, and that `serve carrier` runs alone:
 * GET /healthz, /metrics, /openapi.json, one error serializer, request timing. Parts register
 * themselves under their prefix (registerCarrier).
 */
export function createRootApp(opts: RootAppOptions = {}): FastifyInstance {
  const requestTimeout = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const app = Fastify({
    logger: loggerOptions(opts.logger),
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    // Reject what the schema does not allow rather than silently dropping or coercing it.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
    // Node's default (300 s) is off under fastify unless given: slow clients would be held for
    // ever (seen: 20,000 connections each holding a 100-byte body at two bytes, the server out
    // of file descriptors).
    requestTimeout,
    http: {
      // Node looks for expired requests every `connectionsCheckingInterval` (30 s by default):
      // a tenth of the timeout, so that the 408 comes close to it.
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, requestTimeout / 10)),
      headersTimeout: Math.min(60_000, requestTimeout),
    },
    // Answers from Node's parser (timeouts, header overflows, malformed HTTP) in our shape.
    clientErrorHandler: answerClientError,
    // The router's own refusals (a bad or overlong URL) through the one serializer.
    frameworkErrors: (err, req, reply) => sendError(err, req, reply),
  });
  app.server.maxConnections = MAX_CONNECTIONS;
  let registry = opts.registry;
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  const state: RootState = { registry, openapi: baseDocument(), healthChecks: [] };
  app.decorate("dmguard", state);
  const metrics = carrierMetrics(registry);

  // Every answer is about one request (nonces, verdicts, tokens, DM accounts): none is for a
  // cache to keep, whichever route forgets to say so.
  app.addHook("onRequest", (_req, reply, done) => {
    reply.header("cache-control", "no-store");
    done();
  });
  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((req, reply) =>
    sendError(new CarrierError("NOT_FOUND", "no such route"), req, reply),
  );
  app.addHook("onResponse", async (req, reply) => {
    metrics.httpSeconds.observe(
      {
        method: req.method,
        route: req.routeOptions.url ?? "unmatched",
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  app.get("/healthz", async () => {
    const failed: string[] = [];
    await Promise.all(
      state.healthChecks.map(async (h) => {
        try {
          await h.check();
        } catch {
          failed.push(h.name);
        }
      }),
    );
    if (failed.length > 0) {
      throw new CarrierError("UNAVAILABLE", "a dependency is not reachable", { failed });
    }
    return { status: "ok" };
  });
  app.get("/metrics", async (_req, reply) =>
    reply.header("content-type", state.registry.contentType).send(await state.registry.metrics()),
  );
  app.get("/openapi.json", async () => state.openapi);
  return app;
}
