/**
 * A complete OMA DM session between dmguard's DM server and DM client over real HTTP:
 * md5 authentication both ways, the server reads ./DevInfo/Mod and writes a leaf the client's
 * ACL lets it write. Run it with `node --import tsx examples/dm-session.ts [xml|wbxml]`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type CommandResponse,
  createDmHttpHandler,
  DmClient,
  DmServer,
  DmTree,
  fetchTransport,
  mountDevInfo,
  readDmAccount,
  type ServerClientRecord,
  updateDmAccountNonces,
  writeDmAccount,
} from "../src/omadm/index.js";

const encoding = process.argv[2] === "wbxml" ? "wbxml" : "xml";
const SERVER_ID = "example-dm-server";
const noNonce = new Uint8Array(16);

// The server side: what it knows of the client, and what it wants done in the session.
let record: ServerClientRecord = {
  client: { name: "phone-1", secret: "client-secret", nonce: noNonce, scheme: "md5" },
  server: { name: SERVER_ID, secret: "server-secret", nonce: noNonce, scheme: "md5" },
};
const results: CommandResponse[] = [];
// Listen first: the server names its own URI in every message it sends.
let handler: ReturnType<typeof createDmHttpHandler> | undefined;
const http = createServer((req, res) => handler!(req, res));
await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
const serverUri = `http://127.0.0.1:${(http.address() as AddressInfo).port}/dm`;
const engine = new DmServer({
  serverUri,
  app: {
    findClient: (q) => (q.name === undefined || q.name === record.client.name ? record : undefined),
    saveNonce: (_name, role, nonce) => {
      record =
        role === "client"
          ? { ...record, client: { ...record.client, nonce } }
          : { ...record, server: { ...record.server!, nonce } };
    },
    onSessionStart: () => [
      { kind: "Get", items: [{ target: { locUri: "./DevInfo/Mod" } }] },
      {
        kind: "Replace",
        items: [{ target: { locUri: "./Vendor/Greeting" }, meta: { format: "chr" }, data: "hi" }],
      },
    ],
    onResponse: (_session, response) => {
      results.push(response);
    },
    onPackage: () => [],
  },
});
handler = createDmHttpHandler(engine);

// The client side: a device's DM tree with ./DevInfo and a DM account for this server.
const tree = new DmTree();
mountDevInfo(tree, { devId: "IMEI:490154203237518", man: "dmguard", mod: "dmg-phone-1" });
writeDmAccount(tree, {
  serverId: SERVER_ID,
  name: "example",
  serverUri,
  authType: "DIGEST",
  client: { name: "phone-1", secret: "client-secret", nonce: noNonce },
  server: { name: SERVER_ID, secret: "server-secret", nonce: noNonce },
});
tree.ensureInterior("./Vendor", { acl: `Add=${SERVER_ID}&Get=${SERVER_ID}&Replace=${SERVER_ID}` });
tree.setLeaf("./Vendor/Greeting", "", { format: "chr" });

const client = new DmClient({
  tree,
  account: readDmAccount(tree, SERVER_ID)!,
  transport: fetchTransport(),
  encoding,
  hooks: { persistNonces: (u) => updateDmAccountNonces(tree, SERVER_ID, u) },
});
const session = await client.start();
http.close();

console.log(`session ${session.sessionId} over ${encoding}: ${session.outcome}`);
for (const r of results) console.log(`  ${r.command.kind} -> ${r.code}`);
console.log(`  ./Vendor/Greeting on the device = ${tree.read("./Vendor/Greeting")}`);
