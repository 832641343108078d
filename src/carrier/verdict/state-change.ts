import type { Judgement } from "../verify/judgement.js";

/**
 * What a verdict may change about the device (state, permission list, DM account). Only
 * evidence that is attested, fresh, for a device in the inventory and from the key bound to
 * its IMEI may change anything: otherwise a counterfeit, a replay or a clone could knock a
 * genuine device's access down by presenting its IMEI. A terminated device stays removed.
 */
export type StateChange =
  | { kind: "none"; why: string }
  /** Approved: state `approved`, access pending (limited until the profile is provisioned). */
  | { kind: "approve" }
  /** Denied: state `denied`, access limited (emergency and customer care). */
  | { kind: "deny" };

export function stateChangeFor(j: Judgement): StateChange {
  if (!j.attested) return { kind: "none", why: "not attested" };
  if (!j.nonceFresh) return { kind: "none", why: "nonce not fresh" };
  if (!j.inventory) return { kind: "none", why: "not in the inventory" };
  if (j.reasons.has("CLONE_SUSPECTED")) return { kind: "none", why: "another key holds the IMEI" };
  if (j.reasons.has("DEVICE_TERMINATED")) return { kind: "none", why: "terminated" };
  return j.reasons.size === 0 ? { kind: "approve" } : { kind: "deny" };
}
