// The device's DM client against a scripted omadm server on real HTTP (port 0): what it answers
// with the toggle key at 1 (425 for profile writes, reads still answered) and at 0, its tree on
// disk, and the ./DMAcc it keeps. The full flow against the real carrier is activate.test.ts.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  DEVICE_PATHS,
  type Device,
  type DmAccount,
  ENTERPRISE_ROOT,
  isDmClientError,
  PROFILE_ROOT,
  parseDmTree,
  serializeDmTree,
  writesGatedContent,
  writesProfile,
} from "../../src/device/index.js";
import { createDmHttpHandler } from "../../src/omadm/http/index.js";
import {
  type CommandResponse,
  DmServer,
  type DmServerApp,
  type OutCommand,
  type TreeCommand,
} from "../../src/omadm/session/index.js";
import { DmTree } from "../../src/omadm/tree/index.js";
import { makeDevice, nonce, signVerdict, useLab } from "./helpers.js";

/** A DM server that sends a fixed package and records what came back. */
class Script {
  readonly responses: CommandResponse[] = [];
  readonly alerts: Array<{ code: number; type: string | undefined }> = [];
  readonly accounts = new Map<string, DmAccount>();
  commands: OutCommand[] = [];

  app(): DmServerApp {
    return {
      findClient: (q) => {
        const a = q.name ? this.accounts.get(q.name) : undefined;
        if (!a) return undefined;
        const side = (c: DmAccount["client"]) => ({
          name: c.name,
          secret: c.secret,
          nonce: new Uint8Array(Buffer.from(c.nonce, "base64")),
          scheme: "md5" as const,
        });
        return { client: side(a.client), server: side(a.server) };
      },
      saveNonce: (name, role, n) => {
        const a = this.accounts.get(name);
        if (!a) return;
        const b64 = Buffer.from(n).toString("base64");
        this.accounts.set(name, { ...a, [role]: { ...a[role], nonce: b64 } });
      },
      onSessionStart: () => this.commands,
      onAlert: (_s, alert) => {
        this.alerts.push({ code: alert.code, type: alert.items[0]?.meta?.type });
        return undefined;
      },
      onPackage: (_s, responses) => {
        this.responses.push(...responses);
        return [];
      },
    };
  }
}

const leaf = (uri: string, data: string): OutCommand => ({
  kind: "Add",
  items: [{ target: { locUri: uri }, meta: { format: "chr", type: "text/plain" }, data }],
});

function plan(): OutCommand[] {
  return [
    { kind: "Get", items: [{ target: { locUri: "./DevInfo/Mod" } }] },
    { kind: "Get", items: [{ target: { locUri: "./DevDetail/SwV" } }] },
    { kind: "Delete", items: [{ target: { locUri: PROFILE_ROOT } }] },
    leaf(`${PROFILE_ROOT}/Carrier`, "acme"),
    leaf(`${PROFILE_ROOT}/Access`, "full"),
    leaf("./Vendor/other/Setting", "on"),
  ];
}

const codeOf = (s: Script, uri: string) =>
  s.responses.find((r) => {
    const c = r.command as { items?: Array<{ target?: { locUri: string } }> };
    return c.items?.[0]?.target?.locUri === uri;
  })?.code;

let script: Script;
let server: Server;
let base: string;
const lab = useLab({
  setup: async () => {
    script = new Script();
    const engine = new DmServer({ serverUri: "./dm", app: script.app(), defaultScheme: "md5" });
    server = createServer(createDmHttpHandler(engine));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  },
  teardown: () => new Promise<void>((r) => server.close(() => r())),
});

async function approve(device: Device, imei: string): Promise<void> {
  const n = nonce();
  await device.verify(n);
  await device.acceptVerdict(await signVerdict(lab.verdictKey, { eat_nonce: n, imei }));
}

describe("the device's DM client", () => {
  test("toggle key 1: every profile write gets 425, reads and other writes are answered", async () => {
    const { device, record } = await makeDevice(lab, { serverUrl: base });
    script.accounts.set(record.dmAccount.client.name, record.dmAccount);
    script.commands = plan();
    script.responses.length = 0;
    const client = await device.dmClient();
    const r = await client.session({ trigger: "new-network" });
    assert.equal(r.serverId, "acme-dm");
    assert.equal(r.alertStatus, 200);
    assert.equal(r.refused, 3);
    assert.equal(r.profile, null);
    assert.equal(codeOf(script, "./DevInfo/Mod"), 200);
    const mod = script.responses.find((x) => x.results.length > 0)?.results[0]?.items[0]?.data;
    assert.equal(mod, "dmg-phone-1");
    assert.equal(codeOf(script, "./DevDetail/SwV"), 200);
    assert.equal(codeOf(script, PROFILE_ROOT), 425);
    assert.equal(codeOf(script, `${PROFILE_ROOT}/Carrier`), 425);
    assert.equal(codeOf(script, `${PROFILE_ROOT}/Access`), 425);
    assert.equal(codeOf(script, "./Vendor/other/Setting"), 200);
    assert.equal(client.tree.exists(PROFILE_ROOT), false);
    assert.deepEqual(script.alerts, [{ code: 1226, type: "org.dmguard.activation.new-network" }]);
    assert.equal((await device.status()).profile, null);
    await device.close();
  });

  test("toggle key 0: the profile is written, saved, and shown by status", async () => {
    const { device, record } = await makeDevice(lab, { serverUrl: base });
    script.accounts.set(record.dmAccount.client.name, record.dmAccount);
    script.commands = plan();
    script.responses.length = 0;
    await approve(device, record.imei);
    // Approved, not yet provisioned: limited, as the carrier lists it until the session ends.
    assert.equal((await device.status()).networkAccess, "limited");
    const r = await (await device.dmClient()).session({ trigger: "profile-change" });
    assert.equal(r.refused, 0);
    assert.equal((await device.status()).networkAccess, "full");
    // A later approval whose session has not run yet (cut short, say): the profile on disk is
    // the earlier verdict's, so limited again until this verdict's session provisions it.
    await approve(device, record.imei);
    assert.equal((await device.status()).networkAccess, "limited");
    await (await device.dmClient()).session({ trigger: "profile-change" });
    assert.equal((await device.status()).networkAccess, "full");
    assert.equal(codeOf(script, PROFILE_ROOT), 404, "nothing to delete yet");
    assert.equal(codeOf(script, `${PROFILE_ROOT}/Access`), 200);
    assert.equal(r.profile?.access, "full");
    assert.equal(r.profile?.carrier, "acme");
    // A new client reads the tree back from DEVDIR.
    const again = await device.dmClient();
    assert.equal(again.tree.read(`${PROFILE_ROOT}/Access`), "full");
    assert.equal(again.tree.read("./Vendor/other/Setting"), "on");
    assert.deepEqual((await device.status()).profile, r.profile);
    // The device withdraws the profile once the TSZ says no (factory reset: toggle key 1).
    await device.factoryReset();
    assert.equal((await device.status()).profile, null);
    assert.equal((await device.dmClient()).tree.exists(PROFILE_ROOT), false);
    await device.close();
  });

  test("rotated nonces are saved in ./DMAcc and shown by dmAccount()", async () => {
    const { device, record } = await makeDevice(lab, { serverUrl: base });
    script.accounts.set(record.dmAccount.client.name, record.dmAccount);
    // One command, so the client answers: the new nonce for the server travels in that answer.
    script.commands = [{ kind: "Get", items: [{ target: { locUri: "./DevInfo/Mod" } }] }];
    assert.deepEqual(await device.dmAccount(), record.dmAccount, "before a session: bootstrap");
    await (await device.dmClient()).session({ trigger: "hfa" });
    const after = await device.dmAccount();
    const known = script.accounts.get(record.dmAccount.client.name)!;
    assert.notEqual(after.client.nonce, record.dmAccount.client.nonce);
    assert.notEqual(after.server.nonce, record.dmAccount.server.nonce);
    assert.deepEqual(after, known, "device and server agree on the next nonces");
    // And the next session authenticates with them.
    await (await device.dmClient()).session({ trigger: "hfa" });
    assert.deepEqual(await device.dmAccount(), script.accounts.get(record.dmAccount.client.name));
    await device.close();
  });

  test("a DM server that is not there: DM_SERVER_UNREACHABLE", async () => {
    const { device } = await makeDevice(lab, { serverUrl: "http://127.0.0.1:1" });
    await assert.rejects(
      (await device.dmClient()).session({ trigger: "hfa" }),
      (e) => isDmClientError(e, "DM_SERVER_UNREACHABLE") && /127\.0\.0\.1:1/.test(e.message),
    );
    await device.close();
  });

  test("an edited tree file is refused as DM_TREE_CORRUPT; a factory reset rebuilds it", async () => {
    const { device, record } = await makeDevice(lab, { serverUrl: base });
    script.accounts.set(record.dmAccount.client.name, record.dmAccount);
    script.commands = [];
    await (await device.dmClient()).session({ trigger: "hfa" });
    const path = join(device.dir, DEVICE_PATHS.dmTree);
    const text = await readFile(path, "utf8");
    assert.equal((await readFile(path)).length > 0, true);
    await writeFile(path, text.replace('"format":"dmguard-dmtree/1"', '"format":"x"'));
    await assert.rejects(device.dmClient(), (e) => isDmClientError(e, "DM_TREE_CORRUPT"));
    await writeFile(path, text.replace("./DevInfo/Mod", "./DevInfo/../Mod"));
    await assert.rejects(device.dmAccount(), (e) => isDmClientError(e, "DM_TREE_CORRUPT"));
    await device.factoryReset();
    assert.deepEqual(await device.dmAccount(), record.dmAccount);
    await device.close();
  });

  test("a truncated profile.json is DEVICE_FILE_CORRUPT, not a device without a profile", async () => {
    const { device, record } = await makeDevice(lab, { serverUrl: base });
    script.accounts.set(record.dmAccount.client.name, record.dmAccount);
    script.commands = plan();
    await approve(device, record.imei);
    await (await device.dmClient()).session({ trigger: "profile-change" });
    assert.notEqual((await device.status()).profile, null);
    const path = join(device.dir, DEVICE_PATHS.profile);
    for (const text of ['{"x":', "[1,2]", ""]) {
      await writeFile(path, text);
      await assert.rejects(
        device.status(),
        (e) =>
          isDmClientError(e, "DEVICE_FILE_CORRUPT") &&
          e.message.startsWith("data/omadm/profile.json is not a file this device wrote"),
        JSON.stringify(text),
      );
    }
    await device.factoryReset();
    assert.equal((await device.status()).profile, null);
    await device.close();
  });
});

describe("the DM tree file and the profile-write rule", () => {
  test("serialize → parse keeps every node, value, format and ACL", () => {
    const tree = new DmTree();
    tree.ensureInterior("./Vendor", { acl: "Add=a&Get=a", type: "urn:x" });
    tree.setLeaf("./Vendor/x/Bytes", new Uint8Array([0, 1, 255]), { format: "bin" });
    tree.setLeaf("./Vendor/x/Text", "hé", { format: "chr", title: "t" });
    tree.setLeaf("./Vendor/x/Flag", "true", { format: "bool", permanent: true });
    const copy = parseDmTree(serializeDmTree(tree));
    assert.equal(serializeDmTree(copy), serializeDmTree(tree));
    assert.deepEqual(copy.read("./Vendor/x/Bytes"), new Uint8Array([0, 1, 255]));
    assert.equal(copy.inspect("./Vendor")?.acl, "Add=a&Get=a");
    assert.equal(copy.inspect("./Vendor/x/Flag")?.permanent, true);
  });

  test("which commands write the profile MO", () => {
    const tree = new DmTree();
    const item = (locUri: string) => ({ target: { locUri } });
    const cmd = (kind: string) => ({ kind, cmdId: "1", items: [] }) as unknown as TreeCommand;
    const cases: Array<[string, string, boolean]> = [
      ["Add", `${PROFILE_ROOT}/Access`, true],
      ["Replace", "Vendor/dmguard/Profile/NAI/IMSI", true],
      ["Delete", PROFILE_ROOT, true],
      ["Delete", "./Vendor/dmguard", true],
      ["Delete", "./Vendor", true],
      ["Replace", "./Vendor?prop=ACL", true],
      ["Get", `${PROFILE_ROOT}/Access`, false],
      ["Add", "./Vendor/dmguard/Other", false],
      ["Add", "./Vendor/dmguard/ProfileX", false],
      ["Replace", "./DevInfo/Mod", false],
      ["Add", "./Vendor/dmguard/../x", false],
    ];
    for (const [kind, uri, expected] of cases) {
      assert.equal(writesProfile(cmd(kind), item(uri), tree), expected, `${kind} ${uri}`);
    }
  });

  test("the enterprise MO is gated like the profile MO (an MDAS's group content)", () => {
    const tree = new DmTree();
    const item = (locUri: string) => ({ target: { locUri } });
    const cmd = (kind: string) => ({ kind, cmdId: "1", items: [] }) as unknown as TreeCommand;
    const cases: Array<[string, string, boolean]> = [
      ["Add", `${ENTERPRISE_ROOT}/Apps`, true],
      ["Delete", ENTERPRISE_ROOT, true],
      ["Replace", `${ENTERPRISE_ROOT}/Rights/Vpn`, true],
      ["Add", `${PROFILE_ROOT}/Access`, true],
      ["Get", `${ENTERPRISE_ROOT}/Apps`, false],
      ["Add", "./Vendor/dmguard/EnterpriseX", false],
    ];
    for (const [kind, uri, expected] of cases) {
      assert.equal(writesGatedContent(cmd(kind), item(uri), tree), expected, `${kind} ${uri}`);
    }
    // The carrier's own rule stays the carrier's: the enterprise MO is not its profile.
    assert.equal(writesProfile(cmd("Add"), item(`${ENTERPRISE_ROOT}/Apps`), tree), false);
  });
});
