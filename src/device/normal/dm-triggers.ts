import type { Item } from "../../omadm/model/message.js";
import { PROFILE_ROOT } from "./dm-profile.js";
import type { DmTrigger } from "./dm-trigger-kinds.js";

/**
 * The four events that start a DM session (DESIGN.md, Initial activation; the patent's
 * hands-free activation, factory reset, new-network start-up and DM profile change), and what
 * the DM client puts in Package 1 for each.
 *
 * OMA DM 1.2 has one session alert for a client that opens a session on its own: Alert 1201,
 * client-initiated management (OMA-TS-DM_Protocol §2.3.3, RepPro §8: alert types). It carries no
 * reason, so the client adds one Generic Alert (1226, Protocol §8.7) naming the event in its
 * Meta Type, in reverse-domain form as vendor alert types are (OMNA registers the `org.openmobile
 * alliance.*` ones; these are dmguard's own), with Meta Format `chr`, Mark `informational`, the
 * node the event concerns as Source, and the trigger's name as Data:
 *
 * | trigger          | Package 1                         | Generic Alert Meta Type                | Source            |
 * | ---------------- | --------------------------------- | -------------------------------------- | ----------------- |
 * | `hfa`            | 1201, DevInfo Replace, 1226       | `org.dmguard.activation.hfa`           | `./DMAcc`         |
 * | `factory-reset`  | 1201, DevInfo Replace, 1226       | `org.dmguard.activation.factory-reset` | `./DevDetail`     |
 * | `new-network`    | 1201, DevInfo Replace, 1226       | `org.dmguard.activation.new-network`   | `./DevInfo`       |
 * | `profile-change` | 1201, DevInfo Replace, 1226       | `org.dmguard.activation.profile-change`| the profile MO    |
 *
 * A server that does not know a type still answers 200 (Protocol §8.7: an unknown alert is
 * acknowledged); the carrier's DM server delivers the profile of the device's state whatever
 * the event, so the type is informational there.
 */
export { DM_TRIGGERS, type DmTrigger, isDmTrigger } from "./dm-trigger-kinds.js";

export const TRIGGER_ALERT_PREFIX = "org.dmguard.activation.";

const SOURCE: Record<DmTrigger, string> = {
  hfa: "./DMAcc",
  "factory-reset": "./DevDetail",
  "new-network": "./DevInfo",
  "profile-change": PROFILE_ROOT,
};

/** The Generic Alert's Meta Type for a trigger. */
export function triggerAlertType(trigger: DmTrigger): string {
  return `${TRIGGER_ALERT_PREFIX}${trigger}`;
}

/** The Generic Alert's one item for a trigger (queued with DmClient.queueGenericAlert). */
export function triggerAlertItem(trigger: DmTrigger): Item {
  return {
    source: { locUri: SOURCE[trigger] },
    meta: { type: triggerAlertType(trigger), format: "chr", mark: "informational" },
    data: trigger,
  };
}
