/**
 * The device emulator (DESIGN.md part `device`): the normal world's files, the trusted security
 * zone behind its message API, and the OEM CA that certifies devices. What the CLI, the fleet
 * simulator and the servers' tests use; internals stay in their modules.
 */

export {
  type DebugStatus,
  decodeMeasurements,
  EVIDENCE_PROFILE,
  EVIDENCE_TYP,
  type EvidenceClaims,
  type MeasurementDocument,
  ueidForImei,
} from "../evidence/evidence-claims.js";
export { KCV_LABEL, KCV_LENGTH, keyCheckValue } from "../evidence/key-check-value.js";
export {
  computeKeyProof,
  KEY_PROOF_HEADER,
  KEY_PROOF_LABEL,
  keyProofInput,
  verifyKeyProof,
} from "../evidence/key-proof.js";
export { DEVICE_REASONS, type DeviceReason, sortReasons } from "../evidence/reasons.js";
export { parseVerdictClaims, type VerdictClaims } from "../evidence/verdict-claims.js";
export {
  type ActivateOptions,
  type ActivationResult,
  activateDevice,
  type DmSessionSummary,
} from "./activation/activate.js";
export {
  CarrierActivationApi,
  type CarrierApiOptions,
  type VerdictResponse,
} from "./activation/carrier-api.js";
export {
  ActivationError,
  type ActivationErrorCode,
  isActivationError,
} from "./activation/errors.js";
export {
  type MigrateOptions,
  type MigrationResult,
  migrateDevice,
} from "./activation/migrate.js";
export { formatVia, parseVia, type Via } from "./activation/via.js";
export { crc32 } from "./crc32.js";
export {
  Device,
  type DeviceStatus,
  type LastVerdict,
  type ManufactureOptions,
  type ManufactureRecord,
  manufactureDevice,
  openDevice,
  PreparedDevice,
  type PreparedRecord,
  type PrepareOptions,
  prepareDevice,
  type VerifyOptions,
} from "./device.js";
export { DeviceError, type DeviceErrorCode, isDeviceError } from "./errors.js";
export type { DeviceConfig, ReportedIdentity } from "./normal/device-files.js";
export {
  DeviceDmClient,
  type DmSessionOptions,
  type DmSessionResult,
  type ProvisioningGate,
} from "./normal/dm-client.js";
export {
  ENTERPRISE_ROOT,
  type EnterpriseProfile,
  enterpriseFromTree,
} from "./normal/dm-enterprise.js";
export { DmClientError, type DmClientErrorCode, isDmClientError } from "./normal/dm-errors.js";
export {
  PROFILE_ROOT,
  type ProvisionedProfile,
  writesGatedContent,
  writesProfile,
} from "./normal/dm-profile.js";
export { DM_TREE_FORMAT, parseDmTree, serializeDmTree } from "./normal/dm-tree-file.js";
export {
  DM_TRIGGERS,
  type DmTrigger,
  isDmTrigger,
  TRIGGER_ALERT_PREFIX,
  triggerAlertType,
} from "./normal/dm-triggers.js";
export { DEVICE_PATHS, SU_PATHS } from "./normal/layout.js";
export type {
  BootstrapBody,
  DmAccount,
  DmAuthType,
  InitialSettings,
} from "./normal/payload-schema.js";
export { isTamperKind, TAMPER_KINDS, type TamperKind, tamperDevice } from "./normal/tamper.js";
export {
  createOemCa,
  exportOemCa,
  importOemCa,
  issueDeviceCertificate,
  loadOemCa,
  OEM_CA_FILE,
  type OemCa,
  type OemCaFiles,
  oemIdOf,
  saveOemCa,
  verifyDeviceCertificate,
} from "./oem-ca.js";
export { TszClient } from "./tsz/client.js";
export type {
  DepositOutcome,
  HpkePublicKey,
  TszStatus,
  VerdictOutcome,
} from "./tsz/messages.js";
export { closeDefaultTszPool, defaultTszPool, TszPool, type TszPoolOptions } from "./tsz/pool.js";
export type { NetworkAccess, TszPhase, VerdictValue } from "./tsz/state.js";
export { CARRIER_ID, SLOT_COUNTS, SLOT_KEY_BYTES, type SlotCount } from "./validate.js";
