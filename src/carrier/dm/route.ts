import type { FastifyInstance } from "fastify";
import { exchange } from "../../omadm/http/index.js";
import { DmServer } from "../../omadm/session/index.js";
import type { CarrierContext } from "../context.js";
import { carrierDmApp } from "./dm-app.js";

/** The two media types of OMA-TS-DM_HTTPBinding §5 this endpoint speaks (CONTRACT.md "HTTP"). */
export const DM_MEDIA_TYPES = [
  "application/vnd.syncml.dm+xml",
  "application/vnd.syncml.dm+wbxml",
] as const;
/** Largest DM message accepted: the engine's MaxMsgSize is 64 KiB; leave room for overhead. */
export const DM_BODY_LIMIT = 1024 * 1024;

/**
 * `POST /carriers/<id>/dm`: the omadm server engine behind the omadm HTTP binding's exchange
 * (media type checks, malformed SyncML → 400, answers in the request's encoding). Sessions live
 * in the engine's memory for 5 minutes idle; one process serves a session from start to end.
 */
export function registerDmRoute(scope: FastifyInstance, ctx: CarrierContext): DmServer {
  const engine = new DmServer({
    serverUri: `./carriers/${ctx.id}/dm`,
    app: carrierDmApp(ctx),
    defaultScheme: "md5",
    now: ctx.now,
  });
  for (const type of DM_MEDIA_TYPES) {
    scope.addContentTypeParser(
      type,
      { parseAs: "buffer", bodyLimit: DM_BODY_LIMIT },
      (_req, body, done) => done(null, body),
    );
  }
  scope.post("/dm", { bodyLimit: DM_BODY_LIMIT }, async (req, reply) => {
    const mac = req.headers["x-syncml-hmac"];
    const answer = await exchange(engine, {
      method: req.method,
      contentType: req.headers["content-type"],
      hmacHeader: Array.isArray(mac) ? mac[0] : mac,
      body: Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : new Uint8Array(0),
    });
    return reply.code(answer.status).headers(answer.headers).send(Buffer.from(answer.body));
  });
  return engine;
}
