import type { Encoding } from "../../omadm/model/message.js";
import type { DmTransport } from "../../omadm/session/index.js";
import type { Device } from "../device.js";
import type { DeviceDmClient, DmSessionResult } from "../normal/dm-client.js";
import { DmClientError } from "../normal/dm-errors.js";
import type { DmTrigger } from "../normal/dm-triggers.js";

/** How the DM session of an activation or a migration runs. */
export interface DmSessionOptions {
  encoding?: Encoding;
  timeoutMs?: number;
  dmTransport?: DmTransport;
}

/**
 * DESIGN.md step 7, shared by activation and migration: installs the DM account the verdict
 * response carried and runs one client-initiated session with it. A failure keeps its code and
 * gains `context` in front (the verdict already stands in the TSZ, so the message says what a
 * retry will find). Returns the client too, its tree as the session left it, for a caller with
 * more to do in that tree (activate.ts: an enterprise's denial withdraws its content).
 */
export async function runDmSession(
  device: Device,
  dmAccount: unknown,
  trigger: DmTrigger,
  opts: DmSessionOptions,
  context: string,
): Promise<{ client: DeviceDmClient; result: DmSessionResult }> {
  try {
    const client = await device.dmClient();
    const account = await client.installAccount(dmAccount);
    const result = await client.session({
      trigger,
      serverId: account.serverId,
      ...(opts.encoding ? { encoding: opts.encoding } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.dmTransport ? { transport: opts.dmTransport } : {}),
    });
    return { client, result };
  } catch (err) {
    if (!(err instanceof DmClientError)) throw err;
    throw new DmClientError(err.code, `${context}: ${err.message}`);
  }
}
