import { judgeNonce } from "../../../evidence/index.js";
import type { PartStore } from "../../../store/index.js";
import type { Judgement } from "../judgement.js";

/**
 * Step 2: the nonce is one this carrier issued, unexpired and unused, and is consumed now,
 * atomically (of two racing submissions exactly one passes). A used nonce is NONCE_REPLAYED;
 * an expired one, or one never issued (or already swept), NONCE_EXPIRED: either way the
 * evidence is not fresh.
 */
export async function checkNonce(j: Judgement, tx: PartStore, now: number): Promise<void> {
  judgeNonce(j, (await tx.nonces.consume(j.claims.eat_nonce, now)).status);
}
