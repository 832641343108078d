import { readFile, rm } from "node:fs/promises";
import type { DmTree } from "../../omadm/tree/index.js";
import { writeFileAtomic } from "../atomic-write.js";
import type { TszStatus } from "../tsz/messages.js";
import { isRecord } from "../validate.js";
import { type ProvisionedProfile, profileFromTree } from "./dm-profile.js";
import { loadDmTree, parseDmTree, saveDmTree } from "./dm-tree-file.js";
import { DEVICE_PATHS, within } from "./layout.js";

/**
 * The new carrier's profile, staged before its key's deposit commits in the TSZ (DM_CLIENT.md
 * "Migration"), so that no crash can leave the device with B's key and verdict but A's profile.
 * The DM client writes this file (atomically) from the tree that already holds B's profile, then
 * asks the TSZ to deposit, then applies it (tree and `profile.json`) and removes it. A crash in
 * between is settled once, when a handle on the device is next made (`Device.create`, which
 * `openDevice` and `prepareDevice` go through, so before any command reads or writes it): the
 * TSZ holds that carrier's key and is active for it → rolled forward; otherwise → discarded.
 * Either way `device status` shows A's state alone or both keys with B's profile, and stays a
 * pure read.
 *
 * It holds the whole DM tree (with ./DMAcc's secrets, like dmtree.json), so it is written 0600.
 */
/** Where it is staged, under the device folder. */
export const STAGED_PATH = "data/omadm/migration-staged.json";
const STAGED_FORMAT = "dmguard-migration-stage/1";

export interface StagedMigration {
  carrier: string;
  kid: string;
  profile: ProvisionedProfile;
  /** The serialized DM tree holding the profile (dm-tree-file.ts). */
  tree: string;
}

export async function stageMigration(dir: string, staged: StagedMigration): Promise<void> {
  await writeFileAtomic(
    within(dir, STAGED_PATH),
    JSON.stringify({ format: STAGED_FORMAT, ...staged }),
    0o600,
  );
}

/** After the TSZ took the key: the tree and `profile.json` hold the staged profile. */
export async function applyStagedMigration(
  dir: string,
  tree: DmTree,
  profile: ProvisionedProfile,
): Promise<void> {
  await saveDmTree(dir, tree);
  await writeProfile(dir, profile);
  await discardStagedMigration(dir);
}

export async function discardStagedMigration(dir: string): Promise<void> {
  await rm(within(dir, STAGED_PATH), { force: true });
}

export type StageOutcome = "none" | "rolled-forward" | "discarded";

/** What settling asks the TSZ (its `TszClient` answers it). */
export interface TszStateReader {
  status(): Promise<Pick<TszStatus, "slots" | "lastVerdict">>;
}

/**
 * Finishes or drops what a crash left staged, by what the TSZ holds. The TSZ is asked only when
 * something is staged, and nothing is written otherwise: every opening of a device runs this.
 */
export async function settleStagedMigration(
  dir: string,
  tsz: TszStateReader,
): Promise<StageOutcome> {
  let text: string;
  try {
    text = await readFile(within(dir, STAGED_PATH), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "none";
    throw err;
  }
  const staged = parseStaged(text);
  const state = await tsz.status();
  const v = state.lastVerdict;
  const holds =
    staged !== null &&
    v?.verdict === "approved" &&
    v.carrier === staged.carrier &&
    state.slots.some((s) => s.carrier === staged.carrier && s.kid === staged.kid);
  if (!holds) {
    await discardStagedMigration(dir);
    return "discarded";
  }
  // The saved tree may hold the profile already (saved after the deposit, with newer nonces).
  const saved = await loadDmTree(dir).catch(() => null);
  const tree =
    saved && profileFromTree(saved)?.carrier === staged.carrier ? saved : parseDmTree(staged.tree);
  await applyStagedMigration(dir, tree, staged.profile);
  return "rolled-forward";
}

/** Normal-world data root may edit: anything off is treated as nothing staged. */
function parseStaged(text: string): StagedMigration | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (
    !isRecord(v) ||
    v.format !== STAGED_FORMAT ||
    typeof v.carrier !== "string" ||
    typeof v.kid !== "string" ||
    typeof v.tree !== "string" ||
    !isRecord(v.profile)
  ) {
    return null;
  }
  // The profile is re-derived from the tree itself, so the two cannot disagree.
  let profile: ProvisionedProfile | null;
  try {
    profile = profileFromTree(parseDmTree(v.tree));
  } catch {
    return null;
  }
  if (profile?.carrier !== v.carrier) return null;
  return { carrier: v.carrier, kid: v.kid, profile, tree: v.tree };
}

async function writeProfile(dir: string, profile: ProvisionedProfile): Promise<void> {
  await writeFileAtomic(within(dir, DEVICE_PATHS.profile), `${JSON.stringify(profile)}\n`);
}
