// The DM session after a verdict, with the omadm client engine as the device's DM client over
// real HTTP: it asks the device's TSZ before applying profile content and answers 425 when the
// toggle key is 1 (DESIGN.md step 7).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PROFILE_ROOT } from "../../src/carrier/index.js";
import type { Device } from "../../src/device/index.js";
import { fetchTransport } from "../../src/omadm/http/index.js";
import { DmClient } from "../../src/omadm/session/index.js";
import {
  DmTree,
  mountDevInfo,
  readDmAccount,
  updateDmAccountNonces,
  writeDmAccount,
} from "../../src/omadm/tree/index.js";
import { activate, BACKENDS, type Lab, makeLab, manufacture, type VerdictBody } from "./helpers.js";

type Account = NonNullable<VerdictBody["dmAccount"]>;

function deviceTree(imei: string, acc: Account): DmTree {
  const tree = new DmTree();
  mountDevInfo(tree, { devId: `IMEI:${imei}`, man: "Test OEM", mod: "dmg-phone-1" });
  writeDmAccount(tree, {
    serverId: acc.serverId,
    name: "Carrier",
    serverUri: acc.serverUri,
    authType: "DIGEST",
    client: { ...acc.client, nonce: new Uint8Array(Buffer.from(acc.client.nonce, "base64")) },
    server: { ...acc.server, nonce: new Uint8Array(Buffer.from(acc.server.nonce, "base64")) },
  });
  const grant = ["Add", "Get", "Replace", "Delete"].map((c) => `${c}=${acc.serverId}`).join("&");
  tree.ensureInterior("./Vendor", { acl: grant });
  return tree;
}

/** The device's DM client: profile content only with the TSZ's leave (toggle key 0). */
async function dmSession(
  device: Device,
  imei: string,
  acc: Account,
  encoding: "xml" | "wbxml" = "xml",
): Promise<{ tree: DmTree; outcome: string }> {
  const tree = deviceTree(imei, acc);
  const client = new DmClient({
    tree,
    account: readDmAccount(tree, acc.serverId)!,
    transport: fetchTransport(),
    encoding,
    hooks: {
      persistNonces: (u) => updateDmAccountNonces(tree, acc.serverId, u),
      beforeCommand: async (_cmd, item) => {
        const uri = item.target?.locUri ?? "";
        if (uri.startsWith(PROFILE_ROOT) && !(await device.mayProvision())) return 425;
        return undefined;
      },
    },
  });
  const r = await client.start();
  return { tree, outcome: r.outcome };
}

for (const backend of BACKENDS) {
  describe(`OMA DM profile delivery (${backend})`, () => {
    let lab: Lab;
    before(async () => {
      lab = await makeLab({ backend });
    });
    after(() => lab.close());
    const part = () => lab.store.part("carrier:acme");

    for (const encoding of ["xml", "wbxml"] as const) {
      test(`approved → the user group's profile (${encoding}), provisioned, full access`, async () => {
        const { device, record } = await manufacture(lab, { userGroup: "executive" });
        const { body } = await activate(lab, device);
        assert.equal(body.decision, "approved");
        const { tree, outcome } = await dmSession(device, record.imei, body.dmAccount!, encoding);
        assert.equal(outcome, "completed");
        assert.equal(tree.read(`${PROFILE_ROOT}/Access`), "full");
        assert.equal(tree.read(`${PROFILE_ROOT}/UserGroup`), "executive");
        assert.equal(String(tree.read(`${PROFILE_ROOT}/Services/InternationalRoaming`)), "true");
        assert.match(String(tree.read(`${PROFILE_ROOT}/NAI/IMSI`)), /^[0-9]{15}$/);
        assert.ok(tree.exists(`${PROFILE_ROOT}/PLMN/EHPLMN`));
        assert.ok(tree.exists(`${PROFILE_ROOT}/MMSS/MSPL`));
        assert.equal((await part().devices.get(record.imei))?.state, "provisioned");
        assert.equal((await part().access.get(record.imei))?.access, "full");
        const dm = await part().kv.get("dm-sessions", record.imei);
        assert.equal((dm?.value as { applied: boolean } | undefined)?.applied, true);
        await device.close();
      });
    }

    test("user groups get different services", async () => {
      const seen: Record<string, unknown> = {};
      for (const group of ["executive", "technology", "worker"]) {
        const { device, record } = await manufacture(lab, { userGroup: group });
        const { body } = await activate(lab, device);
        const { tree } = await dmSession(device, record.imei, body.dmAccount!);
        seen[group] = [
          tree.read(`${PROFILE_ROOT}/Services/Tethering`),
          tree.read(`${PROFILE_ROOT}/Services/DataCap`),
        ];
        await device.close();
      }
      assert.notDeepEqual(seen.executive, seen.worker);
      assert.notDeepEqual(seen.technology, seen.worker);
    });

    test("denied → only emergency and customer care; the TSZ's 425 leaves it unprovisioned", async () => {
      const { device, record } = await manufacture(lab);
      await device.tamper("su");
      const { body } = await activate(lab, device);
      assert.equal(body.decision, "denied");
      assert.ok(body.dmAccount);
      const { tree, outcome } = await dmSession(device, record.imei, body.dmAccount);
      assert.equal(outcome, "completed");
      assert.equal(tree.exists(`${PROFILE_ROOT}/Access`), false, "toggle key 1: nothing applied");
      const dm = (await part().kv.get("dm-sessions", record.imei))?.value as {
        applied: boolean;
        refused: boolean;
        codes: Array<{ code: number }>;
      };
      assert.equal(dm.applied, false);
      assert.equal(dm.refused, true);
      assert.ok(dm.codes.every((c) => c.code === 425));
      assert.equal((await part().devices.get(record.imei))?.state, "denied");
      assert.equal((await part().access.get(record.imei))?.access, "limited");
      await device.close();
    });

    test("an approved device whose DM client answers 425 stays unprovisioned", async () => {
      const { device, record } = await manufacture(lab);
      const { body } = await activate(lab, device);
      assert.equal(body.decision, "approved");
      await device.factoryReset(); // toggle key back to 1
      const { tree } = await dmSession(device, record.imei, body.dmAccount!);
      assert.equal(tree.exists(`${PROFILE_ROOT}/Access`), false);
      assert.equal((await part().devices.get(record.imei))?.state, "approved");
      assert.equal((await part().access.get(record.imei))?.access, "limited");
      await device.close();
    });

    test("wrong DM credentials → the session fails authentication, nothing recorded", async () => {
      const { device, record } = await manufacture(lab);
      const { body } = await activate(lab, device);
      const acc = { ...body.dmAccount!, client: { ...body.dmAccount!.client, secret: "not-it" } };
      const { outcome } = await dmSession(device, record.imei, acc).catch((e: Error) => ({
        outcome: e.message,
        tree: null,
      }));
      assert.notEqual(outcome, "completed");
      assert.equal(await part().kv.get("dm-sessions", record.imei), null);
      assert.equal((await part().devices.get(record.imei))?.state, "approved");
      await device.close();
    });

    test("the DM endpoint refuses other media types and malformed SyncML", async () => {
      const r1 = await lab.call("/dm", {
        method: "POST",
        body: "{}",
        headers: { "content-type": "application/json" },
      });
      assert.equal(r1.status, 415);
      const r2 = await lab.call("/dm", {
        method: "POST",
        body: "<SyncML><SyncHdr></SyncBody>",
        headers: { "content-type": "application/vnd.syncml.dm+xml" },
      });
      assert.equal(r2.status, 400);
    });
  });
}
