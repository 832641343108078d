import { createHash } from "node:crypto";
import { type ProfileConfig, USER_GROUPS, type UserGroup } from "./profile-config.js";

/**
 * The profile one device receives (DESIGN.md step 7, PROFILE_MO.md): the full profile of its
 * user group when approved, only emergency and customer-care access when denied. The same
 * object is what the device reports as its `profile` once provisioned.
 */
export interface Profile {
  carrier: string;
  access: "full" | "limited";
  userGroup: UserGroup | null;
  networkAccessIdentity: { imsi: string; msisdn: string } | null;
  prl: { version: number; data: string } | null;
  plmn: { hplmn: string; ehplmn: string[]; oplmn: string[]; plmn: string[] } | null;
  mmss: { mspl: string[]; mlpl: string[] } | null;
  services: Record<string, boolean | string> | null;
  emergency: { numbers: string[] };
  customerCare: { number: string; uri: string };
}

export function userGroupOf(group: string | null): UserGroup {
  return (USER_GROUPS as readonly string[]).includes(group ?? "") ? (group as UserGroup) : "worker";
}

/** `n` decimal digits derived from a public input (identities are not secrets; they are stable). */
function digits(input: string, n: number): string {
  const h = createHash("sha256").update(input).digest();
  let out = "";
  for (let i = 0; out.length < n; i++) out += String(h[i % h.length]! % 10);
  return out;
}

/**
 * The network access identity assigned to a device: an IMSI of this carrier's MCC+MNC
 * (3GPP TS 23.003 §2.2: 15 digits) and an MSISDN under its prefix (E.164, 11 digits here).
 */
export function networkIdentity(
  cfg: ProfileConfig,
  carrierId: string,
  imei: string,
): { imsi: string; msisdn: string } {
  const home = cfg.mcc + cfg.mnc;
  return {
    imsi: home + digits(`imsi|${carrierId}|${imei}`, 15 - home.length),
    msisdn: cfg.msisdnPrefix + digits(`msisdn|${carrierId}|${imei}`, 11 - cfg.msisdnPrefix.length),
  };
}

/**
 * A PRL stand-in (3GPP2 C.S0016 §3.5.5 is a binary roaming list): version, SID/NID pairs, the
 * home system first. Base64 so it travels as a `b64` leaf.
 */
function prlData(cfg: ProfileConfig): string {
  const text = `PRL v${cfg.prlVersion}; home ${cfg.mcc}-${cfg.mnc}; roam ${cfg.oplmn.join(",")}`;
  return Buffer.from(text, "utf8").toString("base64");
}

export function buildProfile(
  cfg: ProfileConfig,
  carrierId: string,
  device: { imei: string; userGroup: string | null; approved: boolean },
): Profile {
  const limited: Profile = {
    carrier: carrierId,
    access: "limited",
    userGroup: null,
    networkAccessIdentity: null,
    prl: null,
    plmn: null,
    mmss: null,
    services: null,
    emergency: { numbers: [...cfg.emergencyNumbers] },
    customerCare: { number: cfg.customerCareNumber, uri: cfg.customerCareUri },
  };
  if (!device.approved) return limited;
  const group = userGroupOf(device.userGroup);
  return {
    ...limited,
    access: "full",
    userGroup: group,
    networkAccessIdentity: networkIdentity(cfg, carrierId, device.imei),
    prl: { version: cfg.prlVersion, data: prlData(cfg) },
    plmn: {
      hplmn: `${cfg.mcc}-${cfg.mnc}`,
      ehplmn: [...cfg.ehplmn],
      oplmn: [...cfg.oplmn],
      plmn: [...cfg.plmn],
    },
    mmss: { mspl: [...cfg.mspl], mlpl: [...cfg.mlpl] },
    services: { ...cfg.services[group] },
  };
}
