import type { EvidenceJudgement } from "../../evidence/index.js";
import type { DeviceStatus, InventoryRecord } from "../../store/index.js";

/**
 * What the carrier's verification steps learn about one evidence (DESIGN.md step 5): the shared
 * part (src/evidence/verify/judgement.ts) and what this carrier's inventory and devices say.
 */
export interface Judgement extends EvidenceJudgement {
  inventory: InventoryRecord | null;
  device: DeviceStatus | null;
}
