import { CARRIER_ID, hasExactKeys, isRecord } from "../validate.js";

/**
 * The predefined schema of the preloaded OMA DM payload's body (the "format" of the patent's
 * payload checks). The body is the bootstrap DM account, laid out as CONTRACT.md's
 * `device dm-account --json` (the DMAcc of OMA-TS-DM_StdObj, flattened), plus the initial
 * settings the DM client starts with. Strict: every field required, no unknown field.
 */
export const BOOTSTRAP_SCHEMA_ID = "dmguard-bootstrap/1";

export type DmAuthType = "BASIC" | "DIGEST" | "HMAC";
export const DM_AUTH_TYPES: readonly DmAuthType[] = ["BASIC", "DIGEST", "HMAC"];

/** One side's credentials (AAuthLevel CLCRED for the client, SRVCRED for the server). */
export interface DmCredentials {
  name: string;
  secret: string;
  /** Base64 (RFC 4648 §4) of the side's next nonce, as the DMAcc AAuthData keeps it. */
  nonce: string;
}

export interface DmAccount {
  serverUri: string;
  serverId: string;
  authType: DmAuthType;
  client: DmCredentials;
  server: DmCredentials;
}

export interface InitialSettings {
  /** The carrier the device was made for (the one of slot 0). */
  carrier: string;
  /** The default data APN until the profile replaces it. */
  apn: string;
  /** Minutes between the DM client's periodic sessions. */
  pollMinutes: number;
}

export interface BootstrapBody {
  schema: typeof BOOTSTRAP_SCHEMA_ID;
  dmAccount: DmAccount;
  settings: InitialSettings;
}

const TEXT = /^[\x20-\x7e]{1,128}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function credentialsProblems(v: unknown, at: string): string[] {
  if (!isRecord(v) || !hasExactKeys(v, ["name", "secret", "nonce"])) {
    return [`${at} must be an object with exactly name, secret, nonce`];
  }
  const out: string[] = [];
  if (typeof v.name !== "string" || !TEXT.test(v.name))
    out.push(`${at}.name must be 1-128 printable characters`);
  if (typeof v.secret !== "string" || !TEXT.test(v.secret))
    out.push(`${at}.secret must be 1-128 printable characters`);
  if (
    typeof v.nonce !== "string" ||
    v.nonce.length === 0 ||
    v.nonce.length > 88 ||
    !BASE64.test(v.nonce)
  ) {
    out.push(`${at}.nonce must be base64 of 1-64 bytes`);
  }
  return out;
}

function uriProblems(v: unknown): string[] {
  if (typeof v !== "string" || v.length > 512) return ["dmAccount.serverUri must be a URL"];
  try {
    const u = new URL(v);
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      return ["dmAccount.serverUri must be http or https"];
    }
  } catch {
    return ["dmAccount.serverUri must be a URL"];
  }
  return [];
}

/** Every way `v` departs from the schema; empty when it conforms. */
export function bootstrapProblems(v: unknown): string[] {
  if (!isRecord(v) || !hasExactKeys(v, ["schema", "dmAccount", "settings"])) {
    return ["body must be an object with exactly schema, dmAccount, settings"];
  }
  const out: string[] = [];
  if (v.schema !== BOOTSTRAP_SCHEMA_ID) out.push(`schema must be "${BOOTSTRAP_SCHEMA_ID}"`);
  const a = v.dmAccount;
  if (!isRecord(a) || !hasExactKeys(a, ["serverUri", "serverId", "authType", "client", "server"])) {
    out.push("dmAccount must have exactly serverUri, serverId, authType, client, server");
  } else {
    out.push(...uriProblems(a.serverUri));
    if (typeof a.serverId !== "string" || !TEXT.test(a.serverId)) {
      out.push("dmAccount.serverId must be 1-128 printable characters");
    }
    if (!DM_AUTH_TYPES.includes(a.authType as DmAuthType)) {
      out.push("dmAccount.authType must be BASIC, DIGEST or HMAC");
    }
    out.push(...credentialsProblems(a.client, "dmAccount.client"));
    out.push(...credentialsProblems(a.server, "dmAccount.server"));
  }
  const s = v.settings;
  if (!isRecord(s) || !hasExactKeys(s, ["carrier", "apn", "pollMinutes"])) {
    out.push("settings must have exactly carrier, apn, pollMinutes");
  } else {
    if (typeof s.carrier !== "string" || !CARRIER_ID.test(s.carrier)) {
      out.push("settings.carrier must be a carrier id");
    }
    if (typeof s.apn !== "string" || !/^[A-Za-z0-9.-]{1,100}$/.test(s.apn)) {
      out.push("settings.apn must be an APN name");
    }
    if (
      typeof s.pollMinutes !== "number" ||
      !Number.isInteger(s.pollMinutes) ||
      s.pollMinutes < 1 ||
      s.pollMinutes > 10080
    ) {
      out.push("settings.pollMinutes must be an integer 1-10080");
    }
  }
  return out;
}
