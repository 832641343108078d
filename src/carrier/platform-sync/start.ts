import type { FastifyInstance } from "fastify";
import type { CarrierContext } from "../context.js";

/** Runs the carrier's outbox delivery while the app is up (nothing when it has no platform). */
export function startPlatformSync(app: FastifyInstance, ctx: CarrierContext): void {
  const sync = ctx.platformSync;
  if (!sync) return;
  sync.warn = (msg, err) => app.log.warn(err === undefined ? {} : { err }, msg);
  // Delivery starts once the server listens: in `up` the platform is on the same app.
  app.addHook("onReady", async () => sync.start());
  app.addHook("onClose", async () => sync.stop());
}
