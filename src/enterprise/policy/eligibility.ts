import type { ReasonCode } from "../../evidence/index.js";
import type { EnrolmentRecord } from "../../store/index.js";
import type { GroupContent } from "./content.js";

export interface EligibilityPolicy {
  groups: Readonly<Record<string, GroupContent>>;
  allowedModels: readonly string[] | null;
}

/**
 * The MDAS's own policy (patent method 2, "eligible for provisioning by the MDAS"): the device
 * is on the enrolment list (NOT_ENROLLED otherwise), of a model the enterprise supports and in
 * a user group it knows (NOT_ELIGIBLE otherwise). Applied after the integrity verdict.
 */
export function eligibilityReasons(
  policy: EligibilityPolicy,
  enrolment: EnrolmentRecord | null,
  model: string,
): ReasonCode[] {
  if (!enrolment) return ["NOT_ENROLLED"];
  const modelOk = policy.allowedModels === null || policy.allowedModels.includes(model);
  const groupOk = enrolment.userGroup !== null && Object.hasOwn(policy.groups, enrolment.userGroup);
  return modelOk && groupOk ? [] : ["NOT_ELIGIBLE"];
}
