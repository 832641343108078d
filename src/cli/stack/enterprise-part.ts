/**
 * An enterprise MDAS as a stack part (src/enterprise/README.md): mounted under
 * /enterprises/{id}, forwarding each carrier's devices to that carrier's server or to the
 * platform. Upstream URLs and tokens are read lazily, since in `up` they are known only once the
 * app listens and the platform's tokens are settled.
 */
import {
  ADMIN_SCOPE,
  type EnterpriseOptions,
  issueEnterpriseAdminToken,
  registerEnterprise,
  type Upstream,
} from "../../enterprise/index.js";
import type { StackEnv, StackPart } from "./part-types.js";

/** What an enterprise may be configured with beyond what the stack shares (serve's config). */
export type EnterpriseExtras = Pick<
  EnterpriseOptions,
  "groups" | "allowedModels" | "publicUrl" | "defaultCarrier"
>;

export function enterprisePart(
  id: string,
  upstreams: (env: StackEnv) => Record<string, Upstream>,
  extras: EnterpriseExtras = {},
): StackPart {
  return {
    kind: "enterprise",
    id,
    async mount(env) {
      await registerEnterprise(env.app, {
        enterpriseId: id,
        store: env.store,
        keystore: env.keystore,
        upstreams: upstreams(env),
        ...extras,
      });
      return {
        path: `/enterprises/${id}`,
        owner: `enterprise:${id}`,
        adminScope: ADMIN_SCOPE,
        issueAdminToken: () =>
          issueEnterpriseAdminToken(env.store, id, { label: "dmguard up", replacing: true }),
      };
    },
  };
}
