import type { FastifyInstance } from "fastify";
import { exchange } from "../omadm/http/index.js";
import { type CommandResponse, DmServer, type DmServerApp } from "../omadm/session/index.js";

/** The two media types of OMA-TS-DM_HTTPBinding §5 this endpoint speaks (CONTRACT.md "HTTP"). */
export const DM_MEDIA_TYPES = [
  "application/vnd.syncml.dm+xml",
  "application/vnd.syncml.dm+wbxml",
] as const;
/** How often idle DM sessions are looked for (each message looks too). */
const EXPIRY_SWEEP_MS = 60_000;

/** Largest DM message accepted: the engine's MaxMsgSize is 64 KiB; leave room for overhead. */
export const DM_BODY_LIMIT = 1024 * 1024;

/**
 * `POST <scope>/dm`: the omadm server engine, running `app` with MD5 digest by default, behind
 * the omadm HTTP binding's exchange (media type checks, malformed SyncML → 400, answers in the
 * request's encoding). Sessions live in the engine's memory for 5 minutes idle; one process
 * serves a session from start to end. A timer ends idle sessions while no message comes, so an
 * abandoned session's memory is freed once it expires, traffic or not.
 */
export function registerDmRoute(
  scope: FastifyInstance,
  opts: { serverUri: string; app: DmServerApp; now: () => number },
): DmServer {
  const engine = new DmServer({
    serverUri: opts.serverUri,
    app: opts.app,
    defaultScheme: "md5",
    now: opts.now,
  });
  const sweep = setInterval(() => engine.expireIdle(), EXPIRY_SWEEP_MS);
  sweep.unref();
  scope.addHook("onClose", async () => clearInterval(sweep));
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

/** One status the device answered to a provisioning command. */
export interface DmStatus {
  command: string;
  target: string | null;
  code: number;
}

/**
 * The statuses of a provisioning package, and whether it was applied: every command succeeded
 * (2xx), a Delete of `root` that was never there (404) counting as done.
 */
export function provisioningOutcome(
  responses: readonly CommandResponse[],
  root: string,
): { codes: DmStatus[]; applied: boolean } {
  const codes = responses.map((r) => {
    const c = r.command;
    const target =
      "items" in c
        ? (c.items[0]?.target?.locUri ?? null)
        : "item" in c
          ? (c.item.target?.locUri ?? null)
          : null;
    return { command: c.kind, target, code: r.code };
  });
  const applied =
    codes.length > 0 &&
    codes.every(
      (x) =>
        (x.code >= 200 && x.code < 300) ||
        (x.command === "Delete" && x.target === root && x.code === 404),
    );
  return { codes, applied };
}
