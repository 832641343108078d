// What the crash tests share: `dmguard up` started (armed or not) on one data folder and one
// port across restarts, so the devices' server URL from manufacture stays valid, and the
// carrier's record of one device read straight from the stack's SQLite store, checked for
// half-state.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type {
  AuditEntry,
  DeviceRecord,
  PartStore,
  Store,
  VerdictRecord,
} from "../../src/store/index.js";
import { startUp, type UpProcess } from "../cli/stack-support.js";
import { runCli } from "../support/cli.js";

export const CARRIER = "acme";

/** `up` on `data` at `port` (0: any); with `crashAt`, that crash point is armed in it. */
export function upOn(data: string, port: number, crashAt?: string): Promise<UpProcess> {
  return startUp(
    ["--data", data, "--port", String(port)],
    20_000,
    crashAt ? { DMGUARD_CRASH_AT: crashAt } : undefined,
  );
}

export function portOf(up: UpProcess): number {
  return Number(new URL(up.baseUrl).port);
}

export async function adminToken(data: string): Promise<string> {
  const creds = JSON.parse(await readFile(join(data, "credentials.json"), "utf8")) as {
    adminTokens: Record<string, string>;
  };
  return creds.adminTokens[`carrier:${CARRIER}`]!;
}

/** `GET /carriers/acme/devices/{imei}`: the carrier's lookup through its admin API. */
export async function lookup(
  base: string,
  token: string,
  imei: string,
): Promise<{ state: string | null; networkAccess: string | null; verdicts: unknown[] }> {
  const r = await fetch(`${base}/carriers/${CARRIER}/devices/${imei}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()) as { state: string | null; networkAccess: string | null; verdicts: [] };
}

/** `dmguard audit verify --stack DATA` exits 0: every part's hash chain is intact. */
export async function assertAuditIntact(data: string): Promise<void> {
  const r = await runCli(["audit", "verify", "--stack", data]);
  assert.equal(r.code, 0, `audit verify: ${r.stdout}${r.stderr}`);
}

/** Everything the carrier keeps about one device, from the store itself. */
export interface CarrierRecord {
  device: DeviceRecord | null;
  access: string | null;
  verdicts: VerdictRecord[];
  /** kv `dm-accounts/<IMEI>`: the DM account's public half, its generation the verdict id. */
  account: { generation: string } | null;
  dmSession: { applied: boolean } | null;
  audit: AuditEntry[];
}

export async function carrierRecord(store: Store, imei: string): Promise<CarrierRecord> {
  const part: PartStore = store.part(`carrier:${CARRIER}`);
  const [device, access, verdicts, account, dmSession, audit] = await Promise.all([
    part.devices.get(imei),
    part.access.get(imei),
    part.verdicts.forImei(imei),
    part.kv.get("dm-accounts", imei),
    part.kv.get("dm-sessions", imei),
    part.audit.list({ limit: 10_000 }),
  ]);
  return {
    device,
    access: access?.access ?? null,
    verdicts,
    account: (account?.value as { generation: string } | undefined) ?? null,
    dmSession: (dmSession?.value as { applied: boolean } | undefined) ?? null,
    audit: audit.filter((e) => e.subject === imei),
  };
}

export type Whole = "nothing" | "approved" | "provisioned";

/**
 * Asserts the record has no half-state and says which whole state it is in: no activation at
 * all; an approval (verdict, state, pending access, DM account and audit entry, all of them);
 * or an approval whose DM session was recorded (provisioned, full access, the session's status
 * and its audit entry). Every verdict row has exactly one audit entry naming it.
 */
export function assertWhole(rec: CarrierRecord, label: string): Whole {
  const verdictAudit = rec.audit.filter((e) => e.action === "verdict");
  const dmAudit = rec.audit.filter((e) => e.action === "dm-session");
  assert.deepEqual(
    verdictAudit.map((e) => e.details.verdictId).sort(),
    rec.verdicts.map((v) => v.id).sort(),
    `${label}: one audit entry per verdict row`,
  );
  if (rec.verdicts.length === 0) {
    assert.equal(rec.device, null, `${label}: a state without a verdict`);
    assert.equal(rec.access, null, `${label}: access without a verdict`);
    assert.equal(rec.account, null, `${label}: a DM account without a verdict`);
    assert.equal(rec.dmSession, null, `${label}: a DM session without a verdict`);
    assert.equal(dmAudit.length, 0, label);
    return "nothing";
  }
  // The audit log's order is the commit order.
  const newest = { id: verdictAudit.at(-1)!.details.verdictId as string };
  assert.ok(
    rec.verdicts.every((v) => v.verdict === "approved"),
    `${label}: ${rec.verdicts.map((v) => v.verdict)}`,
  );
  assert.ok(rec.device, `${label}: a verdict without a state`);
  assert.equal(rec.device.verdictId, newest.id, `${label}: the state is the newest verdict's`);
  assert.equal(rec.account?.generation, newest.id, `${label}: the DM account is the newest's`);
  if (rec.device.state === "approved") {
    assert.equal(rec.access, "limited", `${label}: approved, access pending until provisioned`);
    assert.equal(rec.device.profile, null, label);
    return "approved";
  }
  assert.equal(rec.device.state, "provisioned", label);
  assert.equal(rec.access, "full", label);
  assert.ok(rec.device.profile, `${label}: provisioned without a profile`);
  assert.equal(rec.dmSession?.applied, true, `${label}: provisioned without its DM session`);
  const lastDm = dmAudit.at(-1);
  assert.ok(lastDm, `${label}: provisioned without an audit entry`);
  assert.ok(
    lastDm.seq > verdictAudit.at(-1)!.seq,
    `${label}: the DM session is audited after the verdict`,
  );
  return "provisioned";
}

/** `device activate DIR --json` (the retry): approved, full access, the profile, toggle 0. */
export async function assertActivates(dir: string, label: string): Promise<void> {
  const r = await runCli(["device", "activate", dir, "--json"]);
  assert.equal(r.code, 0, `${label}: retry exited ${r.code}: ${r.stderr}`);
  const out = JSON.parse(r.stdout.toString("utf8")) as {
    verdict: string;
    toggleKey: number;
    networkAccess: string;
    profile: { access: string } | null;
  };
  assert.equal(out.verdict, "approved", label);
  assert.equal(out.toggleKey, 0, label);
  assert.equal(out.networkAccess, "full", label);
  assert.equal(out.profile?.access, "full", label);
}

/** `device status DIR --json` works (DEVDIR is not corrupt) and returns what it says. */
export async function deviceStatus(dir: string): Promise<{
  toggleKey: number;
  networkAccess: string;
  profile: { access: string } | null;
  lastVerdict: { verdict: string } | null;
}> {
  const r = await runCli(["device", "status", dir, "--json"]);
  assert.equal(r.code, 0, `device status: ${r.stderr}`);
  return JSON.parse(r.stdout.toString("utf8"));
}
