import type { Encoding } from "../../omadm/model/message.js";
import type { DmTransport } from "../../omadm/session/index.js";
import type { Device } from "../device.js";
import { DeviceDmClient, type DmSessionResult } from "../normal/dm-client.js";
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
 * retry will find).
 */
export async function runDmSession(
  device: Device,
  dmAccount: unknown,
  trigger: DmTrigger,
  opts: DmSessionOptions,
  context: string,
): Promise<DmSessionResult> {
  try {
    const client = await DeviceDmClient.open(device.dir, device);
    const account = await client.installAccount(dmAccount);
    return await client.session({
      trigger,
      serverId: account.serverId,
      ...(opts.encoding ? { encoding: opts.encoding } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.dmTransport ? { transport: opts.dmTransport } : {}),
    });
  } catch (err) {
    if (!(err instanceof DmClientError)) throw err;
    throw new DmClientError(err.code, `${context}: ${err.message}`);
  }
}
