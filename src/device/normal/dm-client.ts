import { rm } from "node:fs/promises";
import { crashPoint } from "../../fault/crash-point.js";
import { ProtocolError } from "../../omadm/errors.js";
import { DmHttpError, fetchTransport } from "../../omadm/http/index.js";
import type { Encoding } from "../../omadm/model/message.js";
import { DmClient, type DmTransport, type OutCommand } from "../../omadm/session/index.js";
import { AlertCode, StatusCode } from "../../omadm/status.js";
import { type DmTree, updateDmAccountNonces } from "../../omadm/tree/index.js";
import { writeFileAtomic } from "../atomic-write.js";
import { fromTreeAccount, installDmAccount, readTreeAccount } from "./dm-account.js";
import { bootstrapDmTree, grantVendor } from "./dm-bootstrap.js";
import { ENTERPRISE_ROOT, type EnterpriseProfile, enterpriseFromTree } from "./dm-enterprise.js";
import { DmClientError } from "./dm-errors.js";
import {
  depositFromItem,
  isMigrationKeyWrite,
  type KeyDepositor,
  type MigrationDeposit,
} from "./dm-migration.js";
import {
  applyStagedMigration,
  discardStagedMigration,
  stageMigration,
} from "./dm-migration-stage.js";
import { networkCause } from "./dm-net.js";
import {
  PROFILE_ROOT,
  type ProvisionedProfile,
  profileFromTree,
  writesGatedContent,
} from "./dm-profile.js";
import { loadDmTree, saveDmTree, serializeDmTree } from "./dm-tree-file.js";
import { type DmTrigger, triggerAlertItem } from "./dm-triggers.js";
import { DEVICE_PATHS, within } from "./layout.js";
import type { DmAccount } from "./payload-schema.js";

/**
 * The normal world's OMA DM client (DESIGN.md step 7): the device's tree, persisted in DEVDIR,
 * and sessions run with the omadm client engine over HTTP. It asks the TSZ before it applies
 * profile content and answers 425 (permission denied, RepPro §10) to every command that would
 * write the profile MO or an MDAS's enterprise MO while the toggle key is 1; everything else (reads of ./DevInfo, …) is
 * answered as usual.
 */

/**
 * What the DM client may ask the TSZ (Device and TszClient both answer it): whether to provision,
 * and (migration, dm-migration.ts) to deposit a key a carrier's DM server sent wrapped to it.
 */
export interface ProvisioningGate extends Partial<KeyDepositor> {
  mayProvision(): Promise<boolean>;
}

export interface DmSessionOptions {
  trigger: DmTrigger;
  /** The ./DMAcc account to use; default the current one (the last installed). */
  serverId?: string;
  /** Default: HTTP through the global fetch (omadm's fetchTransport). */
  transport?: DmTransport;
  encoding?: Encoding;
  /** Per HTTP request, default 30 s. */
  timeoutMs?: number;
}

export interface DmSessionResult {
  trigger: DmTrigger;
  serverId: string;
  serverUri: string;
  sessionId: string;
  /** Messages the client sent. */
  messages: number;
  /** Server commands the client answered. */
  commands: number;
  /** The server's status for the trigger's Generic Alert (null if it never answered it). */
  alertStatus: number | null;
  /** Command items answered 425 because the TSZ's toggle key is 1. */
  refused: number;
  /** The profile MO the tree holds after the session (what `device status` shows). */
  profile: ProvisionedProfile | null;
  /** The enterprise MO (an MDAS's group content) the tree holds after the session. */
  enterprise: EnterpriseProfile | null;
  /** Keys a carrier sent in this session (migration), and what the TSZ made of each. */
  deposits: MigrationDeposit[];
}

function isGenericAlert(cmd: OutCommand): boolean {
  return cmd.kind === "Alert" && Number(cmd.data) === AlertCode.GENERIC_ALERT;
}

export class DeviceDmClient {
  readonly dir: string;
  readonly tree: DmTree;
  readonly #gate: ProvisioningGate;

  private constructor(dir: string, tree: DmTree, gate: ProvisioningGate) {
    this.dir = dir;
    this.tree = tree;
    this.#gate = gate;
  }

  /**
   * The DM client of the device in `dir`: its saved tree, or the bootstrap one. A migration
   * profile a crash left staged was settled when the handle was made (`Device.create`).
   */
  static async open(dir: string, gate: ProvisioningGate): Promise<DeviceDmClient> {
    const tree = (await loadDmTree(dir)) ?? (await bootstrapDmTree(dir));
    return new DeviceDmClient(dir, tree, gate);
  }

  /** The account in ./DMAcc (CONTRACT.md `device dm-account` shape), or null if there is none. */
  account(serverId?: string): DmAccount | null {
    const a = readTreeAccount(this.tree, serverId);
    return a ? fromTreeAccount(a) : null;
  }

  /**
   * Installs an account (a verdict's issued one: it replaces the account with its ServerID),
   * opens ./Vendor to its server, and saves the tree.
   */
  async installAccount(account: unknown): Promise<DmAccount> {
    const clean = installDmAccount(this.tree, account);
    grantVendor(this.tree, clean.serverId);
    await saveDmTree(this.dir, this.tree);
    return clean;
  }

  /**
   * Removes the group content `enterprise` provisioned, when its MDAS no longer grants it (a
   * denial: unenrolled, ineligible, failed integrity). Only ever deletes, so an unsigned answer
   * can at worst take away what that same MDAS gave.
   */
  async withdrawEnterprise(enterprise: string): Promise<boolean> {
    if (enterpriseFromTree(this.tree)?.enterprise !== enterprise) return false;
    this.tree.remove(ENTERPRISE_ROOT);
    await saveDmTree(this.dir, this.tree);
    return true;
  }

  /**
   * One client-initiated session for `trigger` (dm-triggers.ts says what Package 1 holds).
   * Rotated nonces are saved before the answer that reveals them leaves (the engine calls
   * persistNonces then). When the session completes, the provisioned profile is saved for
   * `device status`; a failure throws DmClientError and leaves the saved profile as it was.
   */
  async session(opts: DmSessionOptions): Promise<DmSessionResult> {
    const { tree, dir } = this;
    const account = readTreeAccount(tree, opts.serverId);
    if (!account) {
      throw new DmClientError(
        "DM_ACCOUNT_MISSING",
        opts.serverId
          ? `./DMAcc has no account for ${opts.serverId}`
          : "./DMAcc has no account: the payload's bootstrap account is unreadable and none was issued",
      );
    }
    const sid = account.serverId;
    grantVendor(tree, sid);
    // Asked once per session, at the first profile write: the toggle key does not change
    // while the session runs, and an Add of 25 leaves need not make 25 trips to the TSZ.
    let allowed: boolean | undefined;
    let refused = 0;
    let alertStatus: number | null = null;
    const deposits: MigrationDeposit[] = [];
    // For a refused migration key: the tree as the session found it, and the nonces since.
    const before = tree.snapshot();
    const nonces: Parameters<typeof updateDmAccountNonces>[2][] = [];
    const client = new DmClient({
      tree,
      account,
      transport: opts.transport ?? fetchTransport({ timeoutMs: opts.timeoutMs ?? 30_000 }),
      encoding: opts.encoding ?? "xml",
      hooks: {
        persistNonces: async (u) => {
          nonces.push(u);
          updateDmAccountNonces(tree, sid, u);
          await saveDmTree(dir, tree);
        },
        beforeCommand: async (cmd, item) => {
          if (isMigrationKeyWrite(cmd, item)) {
            const gate = this.#gate;
            if (!gate.depositKey) return StatusCode.PERMISSION_DENIED;
            const staged: { profile: ProvisionedProfile | null } = { profile: null };
            const d = await depositFromItem(item, sid, gate as KeyDepositor, async (c, kid) => {
              const profile = profileFromTree(tree);
              if (profile?.carrier !== c) {
                return `${c}'s profile must precede its key in the package; nothing was deposited`;
              }
              staged.profile = profile;
              await stageMigration(dir, { carrier: c, kid, profile, tree: serializeDmTree(tree) });
              return null;
            });
            deposits.push(d);
            if (d.error === null && staged.profile !== null) {
              await applyStagedMigration(dir, tree, staged.profile);
            } else {
              // The key was refused: what this session wrote (the new carrier's profile) goes,
              // the nonces it rotated stay.
              await discardStagedMigration(dir);
              tree.restore(before);
              for (const u of nonces) updateDmAccountNonces(tree, sid, u);
            }
            return d.status;
          }
          if (!writesGatedContent(cmd, item, tree)) return undefined;
          // A carrier whose key was refused in this session provisions nothing either.
          if (deposits.some((d) => d.error !== null)) {
            refused++;
            return StatusCode.PERMISSION_DENIED;
          }
          allowed ??= await this.#gate.mayProvision();
          crashPoint("device.dm.profile-received");
          if (allowed) return undefined;
          refused++;
          return StatusCode.PERMISSION_DENIED;
        },
        onServerStatus: (cmd, st) => {
          if (isGenericAlert(cmd)) alertStatus = st.code;
        },
      },
    });
    client.queueGenericAlert({ items: [triggerAlertItem(opts.trigger)] });
    let r: Awaited<ReturnType<DmClient["start"]>>;
    try {
      r = await client.start();
    } catch (err) {
      await saveDmTree(dir, tree).catch(() => undefined);
      throw sessionError(err, account.serverUri);
    }
    if (r.outcome !== "completed") {
      await saveDmTree(dir, tree);
      throw new DmClientError(
        "DM_SESSION_FAILED",
        `the DM session with ${account.serverUri} ended ${r.outcome}`,
      );
    }
    // Profile content exists only while the TSZ allows it: a "no" (a denial after an earlier
    // approval) also withdraws a profile MO provisioned under the earlier "yes".
    allowed ??= await this.#gate.mayProvision();
    if (!allowed) {
      tree.remove(PROFILE_ROOT);
      tree.remove(ENTERPRISE_ROOT);
    }
    await saveDmTree(dir, tree);
    const profile = profileFromTree(tree);
    await saveProfile(dir, profile);
    return {
      trigger: opts.trigger,
      serverId: sid,
      serverUri: account.serverUri,
      sessionId: r.sessionId,
      messages: r.messages,
      commands: r.commands,
      alertStatus,
      refused,
      profile,
      enterprise: enterpriseFromTree(tree),
      deposits,
    };
  }
}

/** `data/omadm/profile.json`, what `device status` reads; removed when there is no profile. */
async function saveProfile(dir: string, profile: ProvisionedProfile | null): Promise<void> {
  const path = within(dir, DEVICE_PATHS.profile);
  if (profile === null) await rm(path, { force: true });
  else await writeFileAtomic(path, `${JSON.stringify(profile)}\n`);
}

function sessionError(err: unknown, url: string): unknown {
  const cause = networkCause(err);
  if (cause !== null) {
    return new DmClientError(
      "DM_SERVER_UNREACHABLE",
      `cannot reach the DM server at ${url}: ${cause}`,
    );
  }
  if (err instanceof DmHttpError) {
    return new DmClientError("DM_SESSION_FAILED", `the DM server at ${url}: ${err.message}`);
  }
  if (err instanceof ProtocolError) {
    return new DmClientError(
      "DM_SESSION_FAILED",
      `the DM server at ${url} sent an invalid message: ${err.code}: ${err.message}`,
    );
  }
  return err;
}
