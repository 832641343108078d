import { crashPoint } from "../../fault/crash-point.js";
import type { Encoding } from "../../omadm/model/message.js";
import type { DmTransport } from "../../omadm/session/index.js";
import type { Device, LastVerdict } from "../device.js";
import { type DeviceConfig, writeEnterpriseDecision } from "../normal/device-files.js";
import type { DeviceDmClient, DmSessionResult } from "../normal/dm-client.js";
import { DM_TRIGGERS, type DmTrigger, isDmTrigger } from "../normal/dm-triggers.js";
import { CarrierActivationApi } from "./carrier-api.js";
import { runDmSession } from "./dm-session.js";
import { ActivationError } from "./errors.js";
import { formatVia, parseVia, type Via } from "./via.js";

/**
 * Initial activation with a carrier (DESIGN.md steps 1–7), as `device activate` runs it:
 * nonce from the carrier → the TSZ's verification and signed evidence → the carrier's signed
 * verdict → the TSZ checks it and sets the toggle key (it also records the verdict and the
 * network access, for `device status`) → an OMA DM session with the account the verdict
 * response carries, in which the DM client asks the TSZ before applying the profile.
 *
 * Through an enterprise (patent method 2, `--via enterprise:ID`): the same steps against the
 * MDAS's routes, which forward the evidence unchanged to the carrier or the platform. The TSZ
 * still judges only the integrity verdict inside the answer (its toggle key reflects integrity);
 * what the command reports — decision, reasons, network access — is the MDAS's final answer,
 * which adds its eligibility (NOT_ENROLLED, NOT_ELIGIBLE), and the profile is the group content
 * its DM session provisioned (./Vendor/dmguard/Enterprise).
 */
export interface ActivateOptions {
  /** `carrier:ID` (default: the device's current carrier, see defaultCarrier) or `enterprise:ID`. */
  via?: string;
  /** What started it (dm-triggers.ts); default `hfa`. */
  trigger?: DmTrigger;
  /** Overrides the server URL learned at manufacture (`--server`). */
  serverUrl?: string;
  /** SyncML encoding of the DM session; default XML. */
  encoding?: Encoding;
  /** Per HTTP request; default 30 s. */
  timeoutMs?: number;
  /** For the activation routes; default the global fetch. */
  fetch?: typeof fetch;
  /** For the DM session; default HTTP through the global fetch. */
  dmTransport?: DmTransport;
}

/** What the DM session did, beside the profile (an addition to CONTRACT.md's shape). */
export type DmSessionSummary = Omit<DmSessionResult, "profile" | "enterprise">;

/** CONTRACT.md `device activate --json`, plus the trigger and the DM session's summary. */
export interface ActivationResult extends LastVerdict {
  trigger: DmTrigger;
  /** Null when the verdict response carried no DM account (a counterfeit, a replay). */
  dmSession: DmSessionSummary | null;
}

/**
 * The carrier whose slot key proves the device by default: the one it is active with (its last
 * approval's: after a migration, the new carrier); else the one its last verdict came from, if
 * the device holds that carrier's key (it moved there and was denied since; a denied migration
 * deposits no key, so it does not count); else, with no verdict (new, or factory reset), the
 * carrier of its newest key: slots are filled in order, so that is the carrier it moved to last
 * (after a migration and a reset, not the one it left); else the one it was made for
 * (device.json, read once by the caller).
 */
async function defaultCarrier(device: Device, config: DeviceConfig | null): Promise<Via> {
  // The TSZ's own record, not `device status`: that also reads the normal world's files, and a
  // corrupt profile.json must not stop the activation that would write it anew.
  const s = await device.tsz.status();
  const v = s.lastVerdict;
  const held = (c: string | undefined) => c !== undefined && s.slots.some((x) => x.carrier === c);
  const active = v?.verdict === "approved" ? v.carrier : undefined;
  const newest = s.slots.reduce<(typeof s.slots)[number] | undefined>(
    (a, x) => (a === undefined || x.index > a.index ? x : a),
    undefined,
  );
  const id =
    active ?? (held(v?.carrier) ? v?.carrier : undefined) ?? newest?.carrier ?? config?.carrier;
  if (id === undefined) {
    throw new ActivationError(
      "VIA_INVALID",
      "the device has no carrier key: give --via carrier:ID",
    );
  }
  return parseVia(`carrier:${id}`);
}

/** The server URL given (`--server`), else the one learned at manufacture (`config`). */
export function serverUrlOf(given: string | undefined, config: DeviceConfig | null): string {
  if (given !== undefined) return given;
  if (!config) {
    throw new ActivationError(
      "SERVER_URL_INVALID",
      "the device has no server URL from manufacture (data/dmguard/device.json): give --server URL",
    );
  }
  return config.serverUrl;
}

export async function activateDevice(
  device: Device,
  opts: ActivateOptions = {},
): Promise<ActivationResult> {
  const trigger = opts.trigger ?? "hfa";
  if (!isDmTrigger(trigger)) {
    throw new ActivationError(
      "TRIGGER_INVALID",
      `--trigger must be one of ${DM_TRIGGERS.join(", ")}`,
    );
  }
  const config = await device.config();
  const via: Via =
    opts.via !== undefined ? parseVia(opts.via) : await defaultCarrier(device, config);
  // Through an enterprise the device still proves possession of its own carrier's slot key.
  const carrier = via.kind === "carrier" ? via.id : (await defaultCarrier(device, config)).id;
  const api = new CarrierActivationApi({
    baseUrl: serverUrlOf(opts.serverUrl, config),
    carrier,
    ...(via.kind === "enterprise" ? { enterprise: via.id } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });

  // Steps 1–4: nothing on disk changes until the verdict is in.
  const nonce = await api.nonce();
  const { evidence } = await device.verify(nonce, { carrier });
  crashPoint("device.activation.evidence-signed");
  const answer = await api.submitEvidence(evidence);
  // Step 6: the TSZ accepts only a verdict signed by a key pinned for that carrier.
  const outcome = await device.acceptVerdict(answer.verdict);
  crashPoint("device.activation.verdict-accepted");

  // Step 7. One DM client serves the session and, after an enterprise's denial, the withdrawal.
  let client: DeviceDmClient | null = null;
  let dm: DmSessionResult | null = null;
  if (answer.dmAccount !== null) {
    ({ client, result: dm } = await runDmSession(
      device,
      answer.dmAccount,
      trigger,
      opts,
      `${outcome.verdict} by ${outcome.carrier}, but the DM session failed`,
    ));
  }
  let session: DmSessionSummary | null = null;
  if (dm) {
    const { profile: _provisioned, enterprise: _content, ...rest } = dm;
    session = rest;
  }
  if (via.kind === "enterprise") {
    if (answer.decision !== "approved") {
      await (client ?? (await device.dmClient())).withdrawEnterprise(via.id);
    }
    const decided = {
      verdict: answer.decision,
      reasons: answer.reasons,
      networkAccess: answer.networkAccess,
      via: formatVia(via),
      profile: dm?.enterprise ? { ...dm.enterprise } : null,
    };
    // `device status` shows this answer while the TSZ's last verdict is the one it came with.
    const accepted = (await device.tsz.status()).lastVerdict;
    if (accepted) {
      await writeEnterpriseDecision(device.dir, {
        tszAcceptedAt: accepted.acceptedAt,
        carrier: accepted.carrier,
        ...decided,
      });
    }
    return {
      verdict: decided.verdict,
      reasons: decided.reasons,
      toggleKey: outcome.toggleKey,
      networkAccess: decided.networkAccess,
      carrier: outcome.carrier,
      via: decided.via,
      profile: decided.profile,
      trigger,
      dmSession: session,
    };
  }
  return {
    verdict: outcome.verdict,
    reasons: outcome.reasons,
    toggleKey: outcome.toggleKey,
    networkAccess: outcome.networkAccess,
    carrier: outcome.carrier,
    via: outcome.via,
    // What this session provisioned: null when none ran or the TSZ refused it (toggle key 1).
    profile: dm?.profile ? { ...dm.profile } : null,
    trigger,
    dmSession: session,
  };
}
