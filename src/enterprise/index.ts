/**
 * The enterprise mobile device activation server (DESIGN.md part `enterprise`, patent method 2):
 * enrolment lists and user groups; activation through the enterprise, forwarding the device's
 * evidence unchanged to the carrier server or the platform (per carrier), then its own
 * eligibility; group content through its own OMA DM server; limited access otherwise.
 *
 *   await registerEnterprise(app, { enterpriseId: "initech", store, keystore,
 *     upstreams: { acme: { kind: "carrier", baseUrl }, globex: { kind: "platform", baseUrl, token } } });
 */
export type { EnterpriseActivation } from "./activation/activate.js";
export { ADMIN_SCOPE, issueEnterpriseAdminToken } from "./admin/auth.js";
export { ENROLMENT_FIELDS } from "./admin/enrolment.js";
export type { EnterpriseContext } from "./context.js";
export type { IssuedDmAccount } from "./dm/credentials.js";
export { ENTERPRISE_ROOT, enterpriseLeaves } from "./dm/tree.js";
export {
  ENTERPRISE_ERRORS,
  EnterpriseError,
  type EnterpriseErrorCode,
  isEnterpriseError,
} from "./errors.js";
export { registerEnterprise } from "./http/register-enterprise.js";
export type { EnterpriseOptions, Lazy, Upstream } from "./options.js";
export { DEFAULT_GROUPS, type EnterpriseContent, type GroupContent } from "./policy/content.js";
