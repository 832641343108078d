// `device activate` as a library call against the real carrier (test/carrier/helpers.ts: real
// HTTP on port 0, SQLite in a temp dir, software keystore) and real emulated devices: nonce →
// TSZ verification → evidence → signed verdict → TSZ toggle key → DM session → profile.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, test } from "node:test";
import {
  type ActivationResult,
  activateDevice,
  DM_TRIGGERS,
  type DmAccount,
  isActivationError,
  isDmClientError,
  PROFILE_ROOT,
} from "../../src/device/index.js";
import { decodeMessage } from "../../src/omadm/codec.js";
import { fetchTransport } from "../../src/omadm/http/index.js";
import type { Alert, Command, ItemCommand } from "../../src/omadm/model/message.js";
import type { DmTransport } from "../../src/omadm/session/index.js";
import { makeLab, manufacture } from "../carrier/helpers.js";
import { useCarrierLab } from "./helpers.js";

/** The CONTRACT.md `device activate --json` keys, plus the two this implementation adds. */
const RESULT_KEYS = [
  "carrier",
  "dmSession",
  "networkAccess",
  "profile",
  "reasons",
  "toggleKey",
  "trigger",
  "verdict",
  "via",
];

/** A DM transport over real HTTP that keeps every message both ways, decoded. */
function recorder(): { transport: DmTransport; sent: Command[][]; received: Command[][] } {
  const http = fetchTransport();
  const sent: Command[][] = [];
  const received: Command[][] = [];
  return {
    sent,
    received,
    transport: async (req) => {
      sent.push([...decodeMessage(req.body).message.body.commands]);
      const res = await http(req);
      received.push([...decodeMessage(res.body).message.body.commands]);
      return res;
    },
  };
}

/** Every Add/Replace item target the server sent. */
function writtenTargets(received: Command[][]): string[] {
  return received
    .flat()
    .filter((c): c is ItemCommand => c.kind === "Add" || c.kind === "Replace")
    .flatMap((c) => c.items.map((i) => i.target?.locUri ?? ""));
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const lab = useCarrierLab(makeLab);

/** The carrier's view over its admin API: state, permission-list access, stored profile. */
async function carrierView(imei: string): Promise<{
  state: string | null;
  networkAccess: string | null;
  profile: unknown;
}> {
  const res = await lab.call(`/devices/${imei}`, { admin: true });
  assert.equal(res.status, 200);
  return (await res.json()) as { state: string; networkAccess: string; profile: unknown };
}

async function dmSessionRecord(
  imei: string,
): Promise<{ applied: boolean; codes: Array<{ code: number }> }> {
  const e = await lab.store.part("carrier:acme").kv.get("dm-sessions", imei);
  return e?.value as unknown as { applied: boolean; codes: Array<{ code: number }> };
}

describe("device activation against the real carrier", () => {
  test("a clean device: approved, toggle 0, profile provisioned and full access", async () => {
    const { device, record } = await manufacture(lab, { userGroup: "executive" });
    const r = await activateDevice(device);
    assert.deepEqual(Object.keys(r).sort(), RESULT_KEYS);
    assert.equal(r.verdict, "approved");
    assert.deepEqual(r.reasons, []);
    assert.equal(r.toggleKey, 0);
    assert.equal(r.networkAccess, "full");
    assert.equal(r.carrier, "acme");
    assert.equal(r.via, "carrier:acme");
    assert.equal(r.trigger, "hfa");
    assert.equal(r.dmSession?.refused, 0);
    assert.equal(r.dmSession?.alertStatus, 200);
    const profile = r.profile as Record<string, unknown>;
    assert.equal(profile.access, "full");
    assert.equal(profile.userGroup, "executive");
    // The DM tree holds the profile MO.
    const tree = (await device.dmClient()).tree;
    assert.equal(tree.read(`${PROFILE_ROOT}/Access`), "full");
    assert.match(String(tree.read(`${PROFILE_ROOT}/NAI/IMSI`)), /^[0-9]{15}$/);
    // Status shows the verdict, the access and the profile.
    const status = await device.status();
    assert.equal(status.toggleKey, 0);
    assert.equal(status.activeCarrier, "acme");
    assert.equal(status.networkAccess, "full");
    assert.deepEqual(status.profile, r.profile);
    const { trigger: _t, dmSession: _s, ...contract } = r;
    assert.deepEqual(status.lastVerdict, contract);
    // The carrier: provisioned, full access on the permission list, the same profile.
    const view = await carrierView(record.imei);
    assert.equal(view.state, "provisioned");
    assert.equal(view.networkAccess, "full");
    assert.deepEqual(view.profile, r.profile);
    await device.close();
  });

  test("a tampered device: denied with its reasons, toggle 1, limited profile refused with 425", async () => {
    const { device, record } = await manufacture(lab);
    await device.tamper("su");
    await device.tamper("test-keys");
    const rec = recorder();
    const r = await activateDevice(device, { dmTransport: rec.transport });
    assert.equal(r.verdict, "denied");
    assert.deepEqual([...r.reasons].sort(), ["ROOT_SU", "ROOT_TEST_KEYS"]);
    assert.equal(r.toggleKey, 1);
    assert.equal(r.networkAccess, "limited");
    assert.equal(r.profile, null, "nothing provisioned with the toggle key at 1");
    // The carrier sent the limited profile only (no network identity, PLMN, services)…
    const targets = writtenTargets(rec.received);
    assert.ok(targets.includes(`${PROFILE_ROOT}/Emergency/Numbers`));
    assert.ok(
      !targets.some((t) => /\/(NAI|PRL|PLMN|MMSS|Services|UserGroup)\b/.test(t)),
      targets.join(),
    );
    // …and the device's DM client answered every profile write with 425.
    assert.ok((r.dmSession?.refused ?? 0) > 0);
    const dm = await dmSessionRecord(record.imei);
    assert.equal(dm.applied, false);
    assert.ok(dm.codes.length > 0 && dm.codes.every((c) => c.code === 425));
    assert.equal((await device.dmClient()).tree.exists(PROFILE_ROOT), false);
    const status = await device.status();
    assert.equal(status.toggleKey, 1);
    assert.equal(status.networkAccess, "limited");
    assert.equal(status.activeCarrier, null);
    assert.deepEqual(status.lastVerdict?.reasons, r.reasons);
    const view = await carrierView(record.imei);
    assert.equal(view.state, "denied");
    assert.equal(view.networkAccess, "limited");
    await device.close();
  });

  test("factory reset, then re-activation provisions again", async () => {
    const { device, record } = await manufacture(lab);
    assert.equal((await activateDevice(device)).verdict, "approved");
    await device.factoryReset();
    let status = await device.status();
    assert.equal(status.toggleKey, 1);
    assert.equal(status.profile, null);
    assert.equal(status.lastVerdict, null);
    assert.deepEqual(await device.dmAccount(), record.dmAccount, "back to the bootstrap account");
    const r = await activateDevice(device, { trigger: "factory-reset" });
    assert.equal(r.verdict, "approved");
    assert.equal(r.toggleKey, 0);
    assert.equal((r.profile as { access: string }).access, "full");
    status = await device.status();
    assert.equal(status.networkAccess, "full");
    assert.deepEqual(status.profile, r.profile);
    assert.equal((await carrierView(record.imei)).state, "provisioned");
    await device.close();
  });

  test("dm-account: CONTRACT's shape, the issued account, nonces rotated by the session", async () => {
    const { device, record } = await manufacture(lab);
    let issued: DmAccount | undefined;
    const spy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).endsWith("/activation/evidence")) {
        issued = ((await res.clone().json()) as { dmAccount: DmAccount }).dmAccount;
      }
      return res;
    };
    await activateDevice(device, { fetch: spy });
    const acc = await device.dmAccount();
    assert.deepEqual(Object.keys(acc).sort(), [
      "authType",
      "client",
      "server",
      "serverId",
      "serverUri",
    ]);
    assert.deepEqual(Object.keys(acc.client).sort(), ["name", "nonce", "secret"]);
    assert.deepEqual(Object.keys(acc.server).sort(), ["name", "nonce", "secret"]);
    assert.match(acc.serverUri, /^http:\/\/127\.0\.0\.1:[0-9]+\/carriers\/acme\/dm$/);
    assert.equal(acc.serverId, "acme-dm");
    assert.equal(acc.authType, "DIGEST");
    assert.equal(acc.client.name, `IMEI:${record.imei}`);
    assert.ok(issued);
    // The issued secrets replaced the bootstrap ones; both nonces moved on in the session.
    assert.equal(acc.client.secret, issued.client.secret);
    assert.notEqual(acc.client.secret, record.dmAccount.client.secret);
    assert.notEqual(acc.client.nonce, issued.client.nonce);
    assert.notEqual(acc.server.nonce, issued.server.nonce);
    // The device and the carrier agree on them (the next session authenticates).
    const stored = (await lab.store.part("carrier:acme").kv.get("dm-accounts", record.imei))
      ?.value as { clientNonce: string; serverNonce: string };
    assert.equal(acc.client.nonce, stored.clientNonce);
    assert.equal(acc.server.nonce, stored.serverNonce);
    const again = await (await device.dmClient()).session({ trigger: "profile-change" });
    assert.equal(again.profile?.access, "full");
    assert.notEqual((await device.dmAccount()).client.nonce, acc.client.nonce);
    await device.close();
  });

  test("each trigger starts a session: Alert 1201 and its Generic Alert", async () => {
    const { device, record } = await manufacture(lab);
    for (const trigger of DM_TRIGGERS) {
      const rec = recorder();
      const r: ActivationResult = await activateDevice(device, {
        trigger,
        dmTransport: rec.transport,
      });
      assert.equal(r.verdict, "approved", trigger);
      assert.equal(r.trigger, trigger);
      assert.equal(r.dmSession?.alertStatus, 200, trigger);
      const pkg1 = rec.sent[0]!;
      const alerts = pkg1.filter((c): c is Alert => c.kind === "Alert");
      assert.deepEqual(
        alerts.map((a) => a.data),
        ["1201", "1226"],
        trigger,
      );
      assert.equal(alerts[1]!.items[0]?.meta?.type, `org.dmguard.activation.${trigger}`);
      assert.equal(alerts[1]!.items[0]?.data, trigger);
      assert.equal((await dmSessionRecord(record.imei)).applied, true);
    }
    await device.close();
  });

  test("the DM server lost after the verdict: a typed error that says the verdict stands", async () => {
    const { device } = await manufacture(lab);
    const down: DmTransport = async () => {
      const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
      throw new TypeError("fetch failed", { cause: refused });
    };
    await assert.rejects(
      activateDevice(device, { dmTransport: down }),
      (e) =>
        isDmClientError(e, "DM_SERVER_UNREACHABLE") &&
        /^approved by acme, but the DM session failed: cannot reach .*ECONNREFUSED$/.test(
          e.message,
        ),
    );
    const status = await device.status();
    assert.equal(status.toggleKey, 0, "the TSZ accepted the verdict");
    assert.equal(status.profile, null, "nothing was provisioned");
    // A retry runs the whole flow again and provisions.
    assert.equal(((await activateDevice(device)).profile as { access: string }).access, "full");
    await device.close();
  });

  test("the carrier unreachable: a clear error, the device unchanged", async () => {
    const { device } = await manufacture(lab);
    const before = [await device.status(), await device.dmAccount()];
    const url = `http://127.0.0.1:${await freePort()}`;
    await assert.rejects(
      activateDevice(device, { serverUrl: url }),
      (e) =>
        isActivationError(e, "SERVER_UNREACHABLE") &&
        e.message.includes(`${url}/carriers/acme/activation/nonce`) &&
        !e.message.includes("\n"),
    );
    assert.deepEqual([await device.status(), await device.dmAccount()], before);
    await device.close();
  });

  test("an unknown carrier or enterprise → SERVER_REFUSED with the server's code", async () => {
    const { device } = await manufacture(lab);
    const before = await device.status();
    await assert.rejects(
      activateDevice(device, { via: "carrier:nosuch" }),
      (e) =>
        isActivationError(e, "SERVER_REFUSED") && e.status === 404 && /NOT_FOUND/.test(e.message),
    );
    await assert.rejects(
      activateDevice(device, { via: "enterprise:initech" }),
      // This lab serves no MDAS: its route is unknown, and nothing on the device changes.
      (e) =>
        isActivationError(e, "SERVER_REFUSED") &&
        e.status === 404 &&
        /^enterprise initech answered/.test(e.message),
    );
    await assert.rejects(activateDevice(device, { via: "acme" }), (e) =>
      isActivationError(e, "VIA_INVALID"),
    );
    assert.deepEqual(await device.status(), before);
    await device.close();
  });
});
