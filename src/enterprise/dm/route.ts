import type { FastifyInstance } from "fastify";
import { exchange } from "../../omadm/http/index.js";
import { DmServer } from "../../omadm/session/index.js";
import type { EnterpriseContext } from "../context.js";
import { enterpriseDmApp } from "./dm-app.js";

/** OMA-TS-DM_HTTPBinding §5's two media types (CONTRACT.md "HTTP"). */
const DM_MEDIA_TYPES = ["application/vnd.syncml.dm+xml", "application/vnd.syncml.dm+wbxml"];
const DM_BODY_LIMIT = 1024 * 1024;

/**
 * `POST /enterprises/<id>/dm`: the omadm server engine behind the omadm HTTP binding (media
 * type checks, malformed SyncML → 400, answers in the request's encoding).
 */
export function registerDmRoute(scope: FastifyInstance, ctx: EnterpriseContext): void {
  const engine = new DmServer({
    serverUri: `./enterprises/${ctx.id}/dm`,
    app: enterpriseDmApp(ctx),
    defaultScheme: "md5",
    now: ctx.now,
  });
  for (const type of DM_MEDIA_TYPES) {
    scope.addContentTypeParser(
      type,
      { parseAs: "buffer", bodyLimit: DM_BODY_LIMIT },
      (_r, body, done) => done(null, body),
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
}
