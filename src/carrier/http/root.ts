import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import { collectDefaultMetrics, Registry } from "prom-client";
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
}

/**
 * The HTTP app that `dmguard up` mounts every part on, and that `serve carrier` runs alone:
 * GET /healthz, /metrics, /openapi.json, one error serializer, request timing. Parts register
 * themselves under their prefix (registerCarrier).
 */
export function createRootApp(opts: RootAppOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: loggerOptions(opts.logger),
    bodyLimit: opts.bodyLimit ?? 64 * 1024,
    // Reject what the schema does not allow rather than silently dropping or coercing it.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
  });
  let registry = opts.registry;
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  const state: RootState = { registry, openapi: baseDocument(), healthChecks: [] };
  app.decorate("dmguard", state);
  const metrics = carrierMetrics(registry);

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

  app.get("/healthz", async (_req, reply) => {
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
    return reply.header("cache-control", "no-store").send({ status: "ok" });
  });
  app.get("/metrics", async (_req, reply) =>
    reply.header("content-type", state.registry.contentType).send(await state.registry.metrics()),
  );
  app.get("/openapi.json", async () => state.openapi);
  return app;
}
