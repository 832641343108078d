/**
 * The carrier activation server (DESIGN.md part `carrier`): inventory and administration,
 * nonce challenge, evidence verification and signed verdicts, the OMA DM server delivering the
 * profile, the network access permission list, audit. Its secrets live only in the keystore.
 * Imports evidence, identity, keystore, omadm and store; never the device emulator.
 *
 *   const app = createRootApp({ logger: true });
 *   await registerCarrier(app, { carrierId: "acme", store, keystore, oemCaCertificatePems });
 *   await app.listen({ port: 8080 });
 */

export type { ActivationResult } from "./activation/judge-evidence.js";
export { ADMIN_SCOPE, issueAdminToken } from "./admin/auth.js";
export { attestationThumbprint, INVENTORY_FIELDS } from "./admin/inventory-row.js";
export { CARRIER_ID_PATTERN, type CarrierContext, VERDICT_KEY_LABEL } from "./context.js";
export type { IssuedDmAccount } from "./dm/credentials.js";
export type { Profile } from "./dm/profile.js";
export {
  defaultProfileConfig,
  type ProfileConfig,
  USER_GROUPS,
  type UserGroup,
} from "./dm/profile-config.js";
export { PROFILE_ROOT, profileLeaves } from "./dm/profile-tree.js";
export { DM_MEDIA_TYPES } from "./dm/route.js";
export { CARRIER_ERRORS, CarrierError, type CarrierErrorCode, isCarrierError } from "./errors.js";
export { createCarrierApp } from "./http/create-carrier-app.js";
export { registerCarrier } from "./http/register-carrier.js";
export { createRootApp, type RootAppOptions, type RootState } from "./http/root.js";
export { issueMigrationPeerToken } from "./migration/answer-question.js";
export type { CarrierMigrationOptions } from "./migration/options.js";
export type { CarrierOptions } from "./options.js";
export { VERDICT_TYP } from "./verdict/sign-verdict.js";
