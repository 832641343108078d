/**
 * Exec (OMA-TS-DM_RepPro §6.6.6) on a node the device has bound a handler to. The node must
 * exist (404); a node without a handler, or a property, cannot be executed (405); the server
 * needs Exec on the node (425). The handler's status is returned; a handler that throws, or
 * returns something that is not a status code, gives (500) Command failed.
 */
import type { ItemData } from "../model/message.js";
import { StatusCode } from "../status.js";
import { permits, type TreeState } from "./state.js";
import { canonicalUri, parseDmUriCached } from "./uri.js";

export function execCommand(
  state: TreeState,
  rawUri: string,
  data: ItemData | undefined,
  correlator: string | undefined,
  principal: string,
): number {
  const parsed = parseDmUriCached(rawUri, state.limits);
  if (!parsed.ok) return parsed.status;
  const { segments, query } = parsed.uri;
  if (query) return StatusCode.COMMAND_NOT_ALLOWED;
  const chain = state.chain(segments);
  if (!chain) return StatusCode.NOT_FOUND;
  const handler = state.exec.find(segments);
  if (!handler) return StatusCode.COMMAND_NOT_ALLOWED;
  if (!permits(chain, "Exec", principal)) return StatusCode.PERMISSION_DENIED;
  try {
    const status = handler({ uri: canonicalUri(segments), data, correlator, principal });
    if (status === undefined) return StatusCode.OK;
    return Number.isInteger(status) && status >= 100 && status <= 599
      ? status
      : StatusCode.COMMAND_FAILED;
  } catch {
    return StatusCode.COMMAND_FAILED;
  }
}
