import type { Judgement } from "../judgement.js";

/**
 * Step 6: the carrier's own marks on the device: reported lost or stolen (DEVICE_BLOCKED), or
 * its service ended (DEVICE_TERMINATED).
 */
export function checkStatus(j: Judgement): void {
  const status = j.inventory?.status;
  if (status === "blocked") j.reasons.add("DEVICE_BLOCKED");
  if (status === "terminated" || j.device?.state === "terminated") {
    j.reasons.add("DEVICE_TERMINATED");
  }
}
