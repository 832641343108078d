/**
 * Equipment identity rules (DESIGN.md part `identity`): IMEI / IMEISV (3GPP TS 23.003 §6.2),
 * MEID (3GPP2 S.R0048), ESN and pseudo-ESN, the emulated models' TAC table, and the identity
 * step of the verification application. Pure functions; imports nothing of the project.
 */

export {
  checkIdentity,
  type IdentityClaims,
  type IdentityProblem,
  type IdentityReason,
  identityProblems,
} from "./check.js";
export { IdentityError, type IdentityErrorCode, type IdentityField } from "./errors.js";
export {
  type EsnParts,
  formatEsn,
  isPseudoEsn,
  isValidEsn,
  normaliseEsn,
  PSEUDO_ESN_MANUFACTURER_CODE,
  parseEsn,
  pseudoEsn,
} from "./esn.js";
export {
  type ImeiParts,
  type ImeisvParts,
  imeisvToImei,
  imeiToImeisv,
  isValidImei,
  isValidImeisv,
  makeImei,
  parseImei,
  parseImeisv,
} from "./imei.js";
export { isLuhnValid, luhnCheckDigit, luhnCheckDigitHex } from "./luhn.js";
export {
  generateMeid,
  imeiFromMeid,
  isValidMeid,
  type MeidParts,
  meidBytes,
  meidCheckDigit,
  meidFromImei,
  normaliseMeid,
  parseMeid,
} from "./meid.js";
export { cryptoRandomInt, type RandomInt } from "./random.js";
export {
  DEVICE_MODELS,
  type DeviceModel,
  findModel,
  generateImei,
  modelForTac,
  tacsForModel,
} from "./tac.js";
