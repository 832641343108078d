// Activation through the enterprise MDAS (patent method 2): acme's devices are forwarded to
// acme's server, globex's to the platform; then enrolment, model and group decide eligibility;
// eligible devices get their group's content from the MDAS's own DM server.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Device, tamperDevice } from "../../src/device/index.js";
import { ENTERPRISE_ROOT, type IssuedDmAccount } from "../../src/enterprise/index.js";
import { fetchTransport } from "../../src/omadm/http/index.js";
import { DmClient } from "../../src/omadm/session/index.js";
import {
  DmTree,
  mountDevInfo,
  readDmAccount,
  updateDmAccountNonces,
  writeDmAccount,
} from "../../src/omadm/tree/index.js";
import {
  type CarrierId,
  ENTERPRISE,
  makeStack,
  manufacture,
  type Stack,
} from "../platform/helpers.js";

interface Answer {
  verdict: string;
  decision: string;
  reasons: string[];
  networkAccess: string;
  via: string;
  integrity: { by: string; decision: string; reasons: string[] };
  dmAccount: IssuedDmAccount | null;
}

async function activate(s: Stack, device: Device, carrier: CarrierId) {
  const n = await s.call(`/enterprises/${ENTERPRISE}/activation/nonce`, { json: { carrier } });
  assert.equal(n.status, 200);
  const { nonce } = (await n.json()) as { nonce: string };
  const { evidence } = await device.verify(nonce, { carrier });
  const res = await s.call(`/enterprises/${ENTERPRISE}/activation/evidence`, {
    json: { evidence },
  });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as Answer;
  const toggle = await device.acceptVerdict(body.verdict);
  return { body, toggle };
}

/** The device's DM client against the MDAS: enterprise content only with the TSZ's leave. */
async function dmSession(device: Device, imei: string, acc: IssuedDmAccount): Promise<DmTree> {
  const tree = new DmTree();
  mountDevInfo(tree, { devId: `IMEI:${imei}`, man: "Test OEM", mod: "dmg-phone-1" });
  writeDmAccount(tree, {
    serverId: acc.serverId,
    name: "Enterprise",
    serverUri: acc.serverUri,
    authType: "DIGEST",
    client: { ...acc.client, nonce: new Uint8Array(Buffer.from(acc.client.nonce, "base64")) },
    server: { ...acc.server, nonce: new Uint8Array(Buffer.from(acc.server.nonce, "base64")) },
  });
  tree.ensureInterior("./Vendor", {
    acl: ["Add", "Get", "Replace", "Delete"].map((c) => `${c}=${acc.serverId}`).join("&"),
  });
  const client = new DmClient({
    tree,
    account: readDmAccount(tree, acc.serverId)!,
    transport: fetchTransport(),
    encoding: "xml",
    hooks: {
      persistNonces: (u) => updateDmAccountNonces(tree, acc.serverId, u),
      beforeCommand: async (_cmd, item) => {
        const uri = item.target?.locUri ?? "";
        if (uri.startsWith(ENTERPRISE_ROOT) && !(await device.mayProvision())) return 425;
        return undefined;
      },
    },
  });
  assert.ok(imei);
  const r = await client.start();
  assert.equal(r.outcome, "completed");
  return tree;
}

const read = (t: DmTree, p: string) => {
  const v = t.read(`${ENTERPRISE_ROOT}/${p}`);
  return v === undefined ? undefined : typeof v === "string" ? v : Buffer.from(v).toString("utf8");
};

describe("activation through the enterprise", () => {
  let s: Stack;
  before(async () => {
    s = await makeStack();
  });
  after(() => s.close());

  for (const [carrier, by, group, app] of [
    ["acme", "carrier:acme", "executive", "board-portal"],
    ["acme", "carrier:acme", "technology", "ssh-client"],
    ["globex", "platform", "worker", "timesheet"],
    ["globex", "platform", "executive", "board-portal"],
  ] as const) {
    test(`${carrier} via ${by}, ${group}: approved, the group's content provisioned`, async () => {
      const { device, record } = await manufacture(s, carrier, { enrol: group });
      const { body, toggle } = await activate(s, device, carrier);
      assert.equal(body.decision, "approved");
      assert.deepEqual(body.reasons, []);
      assert.equal(body.integrity.by, by);
      assert.equal(body.via, `enterprise:${ENTERPRISE}`);
      assert.equal(toggle.toggleKey, 0);
      const tree = await dmSession(device, record.imei, body.dmAccount!);
      assert.equal(read(tree, "UserGroup"), group);
      assert.ok(read(tree, "Apps")!.split(",").includes(app));
      assert.equal(read(tree, "Rights/AdminConsole"), String(group === "technology"));
      const st = await s.call(`/enterprises/${ENTERPRISE}/enrolment/${record.imei}`, {
        token: s.enterpriseAdmin,
      });
      const state = (await st.json()) as { state: string; networkAccess: string };
      assert.equal(state.state, "provisioned");
      assert.equal(state.networkAccess, "full");
    });
  }

  for (const carrier of ["acme", "globex"] as const) {
    test(`${carrier}: not enrolled → NOT_ENROLLED, limited, no DM account`, async () => {
      const { device } = await manufacture(s, carrier);
      const { body } = await activate(s, device, carrier);
      assert.equal(body.decision, "denied");
      assert.deepEqual(body.reasons, ["NOT_ENROLLED"]);
      assert.equal(body.integrity.decision, "approved");
      assert.equal(body.networkAccess, "limited");
      assert.equal(body.dmAccount, null);
    });

    test(`${carrier}: tampered → the integrity verdict's reasons, limited`, async () => {
      const { device } = await manufacture(s, carrier, { enrol: "worker" });
      await tamperDevice(device.dir, "payload-crc");
      await tamperDevice(device.dir, "test-keys");
      const { body, toggle } = await activate(s, device, carrier);
      assert.equal(body.decision, "denied");
      assert.deepEqual(body.reasons, ["PAYLOAD_CRC", "ROOT_TEST_KEYS"]);
      assert.deepEqual(body.integrity.reasons, body.reasons);
      assert.equal(body.networkAccess, "limited");
      assert.equal(body.dmAccount, null);
      assert.equal(toggle.toggleKey, 1);
    });
  }

  test("enrolled in a group the enterprise does not know is refused at enrolment", async () => {
    const { record } = await manufacture(s, "acme");
    const res = await s.call(`/enterprises/${ENTERPRISE}/enrolment/${record.imei}`, {
      method: "PUT",
      token: s.enterpriseAdmin,
      json: { userGroup: "interns" },
    });
    assert.equal(res.status, 400);
    assert.equal(
      ((await res.json()) as { error: { code: string } }).error.code,
      "ENROLMENT_INVALID",
    );
  });

  test("a carrier the enterprise does not forward to → CARRIER_UNKNOWN", async () => {
    const res = await s.call(`/enterprises/${ENTERPRISE}/activation/nonce`, {
      json: { carrier: "hooli" },
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "CARRIER_UNKNOWN");
  });

  test("every decision is in the enterprise's audit log; the chains verify", async () => {
    const entries = await s.store.part(`enterprise:${ENTERPRISE}`).audit.list({ limit: 10_000 });
    const decisions = entries.filter((e) => e.action === "activation");
    assert.equal(decisions.length, 8);
    assert.ok(decisions.some((e) => (e.details.reasons as string[]).includes("NOT_ENROLLED")));
    assert.ok(entries.some((e) => e.action === "dm-session" && e.details.applied === true));
    // Each decision names its upstream, and that upstream audited its own judgement of the same
    // IMEI: acme's server its verdict, the platform its verification for initech.
    for (const d of decisions) {
      const by = (d.details.integrity as { by: string }).by;
      const upstream = by === "platform" ? "platform" : by;
      const theirs = await s.store.part(upstream).audit.list({ limit: 10_000 });
      const action = by === "platform" ? "verification" : "verdict";
      const match = theirs.filter((e) => e.subject === d.subject && e.action === action);
      assert.ok(match.length > 0, `${upstream} has no ${action} for ${d.subject}`);
      if (by === "platform") assert.equal(match[0]!.actor, `enterprise:${ENTERPRISE}`);
      assert.deepEqual(
        (match.at(-1)!.details as { reasons: string[] }).reasons,
        (d.details.integrity as { reasons: string[] }).reasons,
      );
    }
    for (const part of [`enterprise:${ENTERPRISE}`, "platform", "carrier:acme"]) {
      const v = await s.store.verifyAudit(part);
      assert.equal(v.ok, true, `${part}: ${JSON.stringify(v)}`);
    }
  });
});
