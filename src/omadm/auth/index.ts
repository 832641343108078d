export { basicCredential, parseBasicCredential, verifyBasic } from "./basic.js";
export { constantTimeEqual } from "./compare.js";
export { credScheme, credUser, makeChal, makeCred, type Secret, verifyCred } from "./cred.js";
export {
  computeMac,
  computeMacFromKey,
  formatHmacHeader,
  HMAC_HEADER,
  type HmacHeader,
  parseHmacHeader,
  signBody,
  verifyMac,
} from "./hmac.js";
export { md5Credential, md5CredentialFromKey, userKey, verifyMd5 } from "./md5.js";
export { decodeNonce, encodeNonce, NONCE_BYTES, newNonce } from "./nonce.js";
export {
  AUTH_TYPE_URI,
  type AuthScheme,
  DMACC_AUTH_TYPE,
  schemeFromAccountType,
  schemeFromTypeUri,
} from "./schemes.js";
