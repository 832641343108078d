/**
 * The OMA DM 1.2 library's public surface. Applications import from here; the folders behind it
 * (xml, wbxml, model, auth, tree, session, http) are its internals.
 */
export * from "./auth/index.js";
export {
  decodeMessage,
  detectEncoding,
  encodeMessage,
  encodingForMediaType,
  MEDIA_TYPE,
  messageToXml,
} from "./codec.js";
export {
  DEFAULT_LIMITS,
  formatLocation,
  type Limits,
  type Location as InputLocation,
  ProtocolError,
  type ProtocolErrorCode,
} from "./errors.js";
export * from "./http/index.js";
export type * from "./model/message.js";
export * from "./session/index.js";
export { AlertCode, isSuccess, StatusCode, type StatusCodeValue } from "./status.js";
export * from "./tree/index.js";
