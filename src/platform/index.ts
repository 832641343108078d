/**
 * The common platform (DESIGN.md part `platform`, issue 5): carriers and enterprises as
 * registered tenants with scoped, hashed, expiring tokens; per-carrier custody of device records
 * and slot keys under each carrier's own KEK; verification for enterprises and carriers and
 * migration questions, answered yes/no with reasons, never with key material.
 *
 *   const app = createRootApp();
 *   await registerPlatform(app, { store, keystore: platformKeystore, oemCaCertificatePems,
 *     carriers: ["acme", "globex"], enterprises: [{ id: "initech", carriers: ["acme", "globex"] }] });
 */

export type { MigrationAnswer } from "../server-kit/migration-policy.js";
export type { PlatformContext } from "./context.js";
export type { DepositInput } from "./custody/deposit.js";
export type { CustodyEvent, CustodyEventResult } from "./custody/events.js";
export type { CustodyRecord, CustodyStatus } from "./custody/records.js";
export {
  isPlatformError,
  PLATFORM_ERRORS,
  PlatformError,
  type PlatformErrorCode,
} from "./errors.js";
export { registerPlatform } from "./http/register-platform.js";
export { type EnterpriseTenant, PLATFORM_PART, type PlatformOptions } from "./options.js";
export {
  type IssueTokenOptions,
  issuePlatformToken,
  revokePlatformToken,
  rotatePlatformToken,
} from "./tokens/issue.js";
export { ALL_SCOPES, OPERATOR_HOLDER, SCOPES, type Scope } from "./tokens/scopes.js";
export { PLATFORM_VERDICT_LABEL } from "./verify/sign.js";
export type { VerificationAnswer } from "./verify/verify-evidence.js";
