import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StatusCode } from "../../src/omadm/status.js";
import {
  type DmAccount,
  DmTree,
  findDmAccount,
  listDmAccountServerIds,
  MO_ID,
  mountDevDetail,
  mountDevInfo,
  readDmAccount,
  updateDmAccountNonces,
  writeDmAccount,
} from "../../src/omadm/tree/index.js";

const SRV = "srv1.example.com";
const OTHER = "srv2.example.com";

const account: DmAccount = {
  serverId: SRV,
  name: "Carrier A DM",
  serverUri: "https://dm.carrier-a.example:8443/dm",
  authType: "DIGEST",
  client: { name: "IMEI:493005100592800", secret: "client-pass", nonce: new Uint8Array([1, 2, 3]) },
  server: { name: SRV, secret: "server-pass", nonce: new Uint8Array([9, 8, 7, 6]) },
};

describe("DevInfo (StdObj §7.1.3.2)", () => {
  const t = new DmTree();
  mountDevInfo(t, { devId: "IMEI:493005100592800", man: "Acme", mod: "A1" });

  test("has the standard nodes with their values and chr format", () => {
    assert.deepEqual(t.children("./DevInfo"), ["DevId", "Man", "Mod", "DmV", "Lang", "Ext"]);
    assert.deepEqual(t.get("./DevInfo/DevId", SRV).items[0], {
      source: { locUri: "./DevInfo/DevId" },
      meta: { format: "chr", type: "text/plain" },
      data: "IMEI:493005100592800",
    });
    assert.equal(t.read("./DevInfo/DmV"), "1.2");
    assert.equal(t.read("./DevInfo/Lang"), "en-US");
    assert.equal(t.inspect("./DevInfo/Ext")?.interior, true);
  });

  test("carries its MO identifier as Type", () => {
    assert.equal(t.get("./DevInfo?prop=Type", SRV).items[0]?.data, MO_ID.DEVINFO);
  });

  test("servers may Get but not change or delete it", () => {
    assert.equal(t.get("./DevInfo/Man", OTHER).status, 200);
    assert.equal(t.replace("./DevInfo/Man", { data: "Evil" }, SRV), StatusCode.PERMISSION_DENIED);
    assert.equal(t.add("./DevInfo/Extra", { data: "x" }, SRV), 425);
    assert.equal(t.delete("./DevInfo/Man", SRV), StatusCode.COMMAND_NOT_ALLOWED);
    assert.equal(t.delete("./DevInfo", SRV), 405);
  });
});

describe("DevDetail (StdObj §7.1.3.3)", () => {
  test("advertises the tree's own URI limits and the device facts", () => {
    const t = new DmTree({ limits: { maxDepth: 12, maxTotLen: 300, maxSegLen: 40 } });
    mountDevDetail(t, {
      devTyp: "phone",
      oem: "Acme",
      fwV: "1.0.3",
      swV: "14",
      hwV: "rev-b",
      lrgObj: true,
    });
    assert.equal(t.read("./DevDetail/URI/MaxDepth"), "12");
    assert.equal(t.read("./DevDetail/URI/MaxTotLen"), "300");
    assert.equal(t.read("./DevDetail/URI/MaxSegLen"), "40");
    assert.deepEqual(
      ["DevTyp", "OEM", "FwV", "SwV", "HwV"].map((n) => t.read(`./DevDetail/${n}`)),
      ["phone", "Acme", "1.0.3", "14", "rev-b"],
    );
    assert.deepEqual(t.get("./DevDetail/LrgObj", SRV).items[0]?.meta, {
      format: "bool",
      type: "text/plain",
    });
    assert.equal(t.read("./DevDetail/LrgObj"), "true");
    assert.equal(t.inspect("./DevDetail")?.type, MO_ID.DEVDETAIL);
    assert.equal(t.delete("./DevDetail/URI", SRV), 405);
    const listed = t.get("./DevDetail?list=Struct", SRV).items.map((i) => i.source?.locUri);
    assert.ok(listed.includes("./DevDetail/URI/MaxSegLen"));
  });
});

describe("DMAcc (StdObj §7.1.3.1) and the account helper", () => {
  function withAccount(): { t: DmTree; uri: string } {
    const t = new DmTree();
    const uri = writeDmAccount(t, account);
    return { t, uri };
  }

  test("writes the v1.2 layout", () => {
    const { t, uri } = withAccount();
    assert.equal(uri, "./DMAcc/srv1.example.com");
    assert.equal(t.inspect(uri)?.type, MO_ID.DMACC);
    assert.deepEqual(t.children(uri), [
      "AppID",
      "ServerID",
      "Name",
      "AppAddr",
      "AAuthPref",
      "AppAuth",
      "Ext",
    ]);
    assert.equal(t.read(`${uri}/AppID`), "w7");
    assert.equal(t.read(`${uri}/ServerID`), SRV);
    assert.equal(t.read(`${uri}/AppAddr/1/Addr`), account.serverUri);
    assert.equal(t.read(`${uri}/AppAddr/1/AddrType`), "URI");
    assert.equal(t.read(`${uri}/AppAddr/1/Port/1/PortNbr`), "8443");
    assert.equal(t.read(`${uri}/AAuthPref`), "DIGEST");
    assert.deepEqual(t.children(`${uri}/AppAuth/1`), [
      "AAuthLevel",
      "AAuthType",
      "AAuthName",
      "AAuthSecret",
      "AAuthData",
    ]);
    assert.equal(t.read(`${uri}/AppAuth/1/AAuthLevel`), "SRVCRED");
    assert.equal(t.read(`${uri}/AppAuth/2/AAuthLevel`), "CLCRED");
    assert.equal(t.inspect(`${uri}/AppAuth/2/AAuthData`)?.format, "bin");
  });

  test("reads back what was written", () => {
    const { t } = withAccount();
    assert.deepEqual(readDmAccount(t, SRV), account);
    assert.deepEqual(listDmAccountServerIds(t), [SRV]);
    assert.equal(readDmAccount(t, OTHER), undefined);
  });

  test("AAuthSecret and AAuthData cannot be read through Get, even by the account's server", () => {
    const { t, uri } = withAccount();
    for (const i of ["1", "2"]) {
      for (const leaf of ["AAuthSecret", "AAuthData"]) {
        const u = `${uri}/AppAuth/${i}/${leaf}`;
        assert.equal(t.get(u, SRV).status, StatusCode.PERMISSION_DENIED, u);
        assert.equal(t.get(`${u}?prop=Size`, SRV).status, 425, u);
      }
    }
    const listed = t.get(`${uri}?list=StructData`, SRV).items;
    assert.ok(listed.length > 10);
    assert.ok(listed.every((i) => !/AAuth(Secret|Data)$/.test(i.source?.locUri ?? "")));
    assert.ok(listed.every((i) => i.data !== "client-pass" && i.data !== "server-pass"));
    assert.equal(t.copy(`${uri}/Ext/leak`, `${uri}/AppAuth/2/AAuthSecret`, SRV), 425);
  });

  test("the account's server may replace its secret; other servers see nothing", () => {
    const { t, uri } = withAccount();
    assert.equal(t.replace(`${uri}/AppAuth/2/AAuthSecret`, { data: "rotated" }, SRV), 200);
    assert.equal(readDmAccount(t, SRV)?.client.secret, "rotated");
    assert.equal(t.get(uri, OTHER).status, 425);
    assert.equal(t.get(`${uri}/ServerID`, OTHER).status, 425);
    assert.equal(t.replace(`${uri}/AppAuth/2/AAuthSecret`, { data: "x" }, OTHER), 425);
    assert.equal(t.add("./DMAcc/rogue", { format: "node" }, OTHER), 425);
  });

  test("updates nonces", () => {
    const { t } = withAccount();
    updateDmAccountNonces(t, SRV, { client: new Uint8Array([0xaa]) });
    let read = readDmAccount(t, SRV);
    assert.deepEqual(read?.client.nonce, new Uint8Array([0xaa]));
    assert.deepEqual(read?.server.nonce, account.server.nonce);
    updateDmAccountNonces(t, SRV, { server: new Uint8Array([0xbb, 0xcc]) });
    read = readDmAccount(t, SRV);
    assert.deepEqual(read?.server.nonce, new Uint8Array([0xbb, 0xcc]));
    assert.equal(
      t.get("./DMAcc/srv1.example.com/AppAuth/1/AAuthData", SRV).status,
      425,
      "still unreadable",
    );
    assert.throws(() => updateDmAccountNonces(t, OTHER, { client: new Uint8Array(1) }), {
      code: "NOT_FOUND",
    });
  });

  test("a nonce a server replaced as b64 over XML reads back as bytes", () => {
    const { t, uri } = withAccount();
    const status = t.replace(
      `${uri}/AppAuth/2/AAuthData`,
      { format: "b64", data: "3q2+7w==" },
      SRV,
    );
    assert.equal(status, 200);
    assert.deepEqual(readDmAccount(t, SRV)?.client.nonce, new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
  });

  test("writing the same ServerID again rewrites the same node", () => {
    const { t, uri } = withAccount();
    const again = writeDmAccount(t, { ...account, name: "Renamed", authType: "HMAC" });
    assert.equal(again, uri);
    assert.deepEqual(t.children("./DMAcc"), ["srv1.example.com"]);
    assert.equal(readDmAccount(t, SRV)?.authType, "HMAC");
    assert.equal(readDmAccount(t, SRV)?.name, "Renamed");
  });

  test("several accounts live side by side, each its own server's", () => {
    const { t } = withAccount();
    const otherUri = writeDmAccount(
      t,
      { ...account, serverId: OTHER, serverUri: "https://dm.b.example/dm", authType: "BASIC" },
      { nodeName: "B" },
    );
    assert.equal(otherUri, "./DMAcc/B");
    assert.equal(findDmAccount(t, OTHER), "./DMAcc/B");
    assert.equal(readDmAccount(t, OTHER)?.serverUri, "https://dm.b.example/dm");
    assert.equal(t.get(otherUri, SRV).status, 425);
    assert.equal(t.get(otherUri, OTHER).status, 200);
    assert.equal(t.children("./DMAcc/B/AppAddr/1")?.includes("Port"), false);
  });

  test("refuses accounts it could not use, and leaves the tree unchanged", () => {
    const t = new DmTree();
    writeDmAccount(t, account);
    const before = t.get("./DMAcc?list=Struct", SRV).items;
    assert.throws(() => writeDmAccount(t, { ...account, serverId: "has space" }), {
      code: "ACCOUNT_INVALID",
    });
    assert.throws(() => writeDmAccount(t, { ...account, serverUri: "not a uri" }), {
      code: "ACCOUNT_INVALID",
    });
    assert.throws(() => writeDmAccount(t, { ...account, name: "x".repeat(2_000_000) }), {
      code: "TOO_LARGE",
    });
    assert.deepEqual(t.get("./DMAcc?list=Struct", SRV).items, before);
    assert.deepEqual(readDmAccount(t, SRV), account);
  });

  test("a damaged account reads as ACCOUNT_INVALID", () => {
    const { t, uri } = withAccount();
    t.setLeaf(`${uri}/AAuthPref`, "X509");
    assert.throws(() => readDmAccount(t, SRV), { code: "ACCOUNT_INVALID" });
    t.setLeaf(`${uri}/AAuthPref`, "");
    assert.equal(readDmAccount(t, SRV)?.authType, "DIGEST", "falls back to CLCRED's AAuthType");
    t.remove(`${uri}/AppAuth/2`);
    assert.throws(() => readDmAccount(t, SRV), { code: "ACCOUNT_INVALID" });
  });
});
