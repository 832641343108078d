/**
 * The attestation thread's worker (attestation-thread.ts): verifies evidence signatures and
 * certificate chains with verifyAttestation, the same function a server would run in its own
 * thread, against anchor sets the main thread registers once each.
 */
import { parentPort } from "node:worker_threads";
import { anchorOf, type TrustAnchor, verifyAttestation } from "./attestation.js";
import type { AttestationReply, AttestationRequest } from "./attestation-thread.js";

const sets = new Map<number, readonly TrustAnchor[]>();

async function answer(m: AttestationRequest): Promise<AttestationReply | null> {
  if (m.kind === "anchors") {
    // Checked as CA certificates where the server loaded them (trust-anchors.ts).
    sets.set(m.set, m.pems.map(anchorOf));
    return null;
  }
  const anchors = sets.get(m.set);
  if (anchors === undefined) return { id: m.id, result: null };
  try {
    return { id: m.id, result: await verifyAttestation(m.evidence, anchors, new Date(m.at)) };
  } catch {
    // The main thread runs it again itself, where the error reaches the request that caused it.
    return { id: m.id, result: null };
  }
}

parentPort?.on("message", async (batch: AttestationRequest[]) => {
  const replies: AttestationReply[] = [];
  for (const m of batch) {
    const r = await answer(m);
    if (r !== null) replies.push(r);
  }
  if (replies.length > 0) parentPort?.postMessage(replies);
});
