/**
 * The three application-layer authentication schemes of OMA DM 1.2 and their names on the wire.
 * OMA-TS-DM_Security-V1_2 §5.1.3 (basic, MD5 digest) and §5.1.4 (HMAC integrity, "syncml:auth-MAC");
 * OMA-TS-DM_StdObj-V1_2 DMAcc AppAuth/<X>/AAuthType for the account values.
 */
export type AuthScheme = "basic" | "md5" | "hmac";

/** Meta Type carried in Cred and Chal (OMA-TS-DM_RepPro §6, Security §5.1.4.1). */
export const AUTH_TYPE_URI: Readonly<Record<AuthScheme, string>> = {
  basic: "syncml:auth-basic",
  md5: "syncml:auth-md5",
  hmac: "syncml:auth-MAC",
};

/** AAuthType values of the DMAcc management object (OMA-TS-DM_StdObj §5.3). */
export const DMACC_AUTH_TYPE: Readonly<Record<AuthScheme, string>> = {
  basic: "BASIC",
  md5: "DIGEST",
  hmac: "HMAC",
};

/** The scheme named by a Meta Type, case-insensitively (peers differ in "auth-MAC" vs "auth-mac"). */
export function schemeFromTypeUri(type: string | undefined): AuthScheme | undefined {
  if (!type) return undefined;
  const t = type.trim().toLowerCase();
  if (t === "syncml:auth-basic") return "basic";
  if (t === "syncml:auth-md5") return "md5";
  if (t === "syncml:auth-mac") return "hmac";
  return undefined;
}

/** The scheme named by a DMAcc AAuthType value (or already a scheme name). */
export function schemeFromAccountType(type: string | undefined): AuthScheme | undefined {
  if (!type) return undefined;
  const t = type.trim().toUpperCase();
  if (t === "BASIC") return "basic";
  if (t === "DIGEST" || t === "MD5") return "md5";
  if (t === "HMAC" || t === "MAC") return "hmac";
  return schemeFromTypeUri(type);
}
