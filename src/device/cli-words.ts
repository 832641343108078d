/**
 * What a command line checks before it opens a device — tamper kinds, DM triggers, `--via`, `--server` —
 * re-exported from modules that load nothing heavy, so `dmguard --help` and usage errors do not
 * pay for the TSZ, the DM client and the crypto behind src/device/index.ts.
 */

export { isActivationError } from "./activation/errors.js";
export { serverBase } from "./activation/server-url.js";
export { formatVia, parseVia, type Via } from "./activation/via.js";
export { isDmClientError } from "./normal/dm-errors.js";
export { DM_TRIGGERS, type DmTrigger, isDmTrigger } from "./normal/dm-trigger-kinds.js";
export { isTamperKind, TAMPER_KINDS, type TamperKind } from "./normal/tamper-kinds.js";
