/**
 * The HTTP, admin and DM-route plumbing the three servers (carrier, platform, enterprise) share,
 * defined once: the error catalogue's class and serializer, the bearer admin-token guard, the
 * per-device DM credentials, the DM route, and common JSON schemas. Each server keeps what is its
 * own (its codes, its labels, its routes). Imports omadm, store, keystore, evidence and
 * libraries only; never a server, the device emulator or the CLI.
 */
export {
  ADMIN_SCOPE,
  type AdminScope,
  issueOwnerAdminToken,
  requireAdminToken,
  revokeLiveTokens,
} from "./admin-auth.js";
export { bearerToken } from "./bearer.js";
export { answerClientError } from "./client-errors.js";
export {
  clientNameFor,
  DM_ACCOUNTS_NS,
  DM_CREDENTIALS_KEY,
  type DmAccountScope,
  type DmRole,
  deriveDmSecret,
  dmAccountHooks,
  type IssuedDmAccount,
  imeiFromClientName,
  issueDmAccount,
  loadDmAccount,
  newDmAccount,
  type StoredDmAccount,
  storeDmAccount,
} from "./dm-credentials.js";
export {
  DM_BODY_LIMIT,
  DM_MEDIA_TYPES,
  type DmStatus,
  provisioningOutcome,
  registerDmRoute,
} from "./dm-route.js";
export {
  type BearerChallenge,
  type CatalogueError,
  type CatalogueErrorClass,
  type CommonErrorCode,
  catalogueError,
  sendCatalogueError,
  toCatalogueError,
} from "./errors.js";
export { evidenceRequest, imei, reasons, tenantId } from "./schemas.js";
