/**
 * What a carrier configures about the profile its DM server delivers (PROFILE_MO.md). Every
 * field has a default derived from the carrier id, so a carrier runs without configuration.
 */

/** The user groups CONTRACT.md names; an inventory row may name another, which gets `worker`'s. */
export const USER_GROUPS = ["executive", "technology", "worker"] as const;
export type UserGroup = (typeof USER_GROUPS)[number];

/** One service switch of a user group: on/off, or a value (a data cap, an APN). */
export type ServiceValue = boolean | string;

export interface ProfileConfig {
  /** Mobile country code, 3 digits (ITU-T E.212). */
  mcc: string;
  /** Mobile network code, 2 or 3 digits. */
  mnc: string;
  /** Country code and prefix of the MSISDNs this carrier assigns (E.164, digits only). */
  msisdnPrefix: string;
  /** Equivalent home PLMNs (3GPP TS 23.122 §1.2), as `MCC-MNC`. */
  ehplmn: string[];
  /** Operator-controlled PLMN selector list (3GPP TS 31.102 EF_OPLMNwAcT), as `MCC-MNC`. */
  oplmn: string[];
  /** User-controlled PLMN selector list (EF_PLMNwAcT), as `MCC-MNC`. */
  plmn: string[];
  /** Preferred Roaming List version (3GPP2 C.S0016 §3.5.5). */
  prlVersion: number;
  /** MMSS System Priority List entries (3GPP2 C.S0016 §3.5.9), highest priority first. */
  mspl: string[];
  /** MMSS Location Associated Priority List entries (C.S0016 §3.5.8). */
  mlpl: string[];
  /** Services per user group (PROFILE_MO.md `Services`). */
  services: Record<UserGroup, Record<string, ServiceValue>>;
  /** Numbers a limited device may still call (3GPP TS 22.101 §10). */
  emergencyNumbers: string[];
  customerCareNumber: string;
  customerCareUri: string;
}

const DIGITS = /^[0-9]+$/;

/** A stable 3-digit MNC from the carrier id, so two default carriers differ. */
function defaultMnc(carrierId: string): string {
  let h = 0;
  for (const ch of carrierId) h = (h * 31 + ch.charCodeAt(0)) % 900;
  return String(100 + h);
}

export function defaultProfileConfig(carrierId: string): ProfileConfig {
  const mcc = "310";
  const mnc = defaultMnc(carrierId);
  return {
    mcc,
    mnc,
    msisdnPrefix: "1555",
    ehplmn: [`${mcc}-${mnc}`],
    oplmn: ["310-260", "311-480"],
    plmn: [],
    prlVersion: 1,
    mspl: [`3GPP:${mcc}-${mnc}:LTE`, "3GPP2:PRL:1xEV-DO"],
    mlpl: [`MCC ${mcc}: MSPL 0`],
    services: {
      executive: {
        Voice: true,
        Data: true,
        InternationalRoaming: true,
        PriorityData: true,
        Tethering: true,
        VPN: true,
        DataCap: "unlimited",
      },
      technology: {
        Voice: true,
        Data: true,
        InternationalRoaming: false,
        PriorityData: false,
        Tethering: true,
        VPN: true,
        DataCap: "50GB",
      },
      worker: {
        Voice: true,
        Data: true,
        InternationalRoaming: false,
        PriorityData: false,
        Tethering: false,
        VPN: false,
        DataCap: "5GB",
      },
    },
    emergencyNumbers: ["911", "112"],
    customerCareNumber: "611",
    customerCareUri: `https://care.${carrierId}.example/activate`,
  };
}

/** Defaults overlaid with the carrier's settings; throws TypeError on a malformed value. */
export function resolveProfileConfig(
  carrierId: string,
  given: Partial<ProfileConfig> = {},
): ProfileConfig {
  const c = { ...defaultProfileConfig(carrierId), ...given };
  if (!/^[0-9]{3}$/.test(c.mcc)) throw new TypeError("profile.mcc must be 3 digits");
  if (!/^[0-9]{2,3}$/.test(c.mnc)) throw new TypeError("profile.mnc must be 2 or 3 digits");
  if (!DIGITS.test(c.msisdnPrefix) || c.msisdnPrefix.length > 8) {
    throw new TypeError("profile.msisdnPrefix must be 1-8 digits");
  }
  for (const g of USER_GROUPS) {
    if (typeof c.services[g] !== "object") throw new TypeError(`profile.services.${g} is missing`);
  }
  return c;
}
