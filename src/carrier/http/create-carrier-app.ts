import type { FastifyInstance } from "fastify";
import type { CarrierOptions } from "../options.js";
import { registerCarrier } from "./register-carrier.js";
import { createRootApp, type RootAppOptions } from "./root.js";

/** One carrier alone on its own app (`dmguard serve carrier`, tests). */
export async function createCarrierApp(
  opts: CarrierOptions & { http?: RootAppOptions },
): Promise<FastifyInstance> {
  const app = createRootApp(opts.http);
  await registerCarrier(app, opts);
  return app;
}
