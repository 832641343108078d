/**
 * Full authenticated 4-package DM sessions between the client and server engines in one
 * process: Package 1 (Alert 1201 + DevInfo, md5 Cred), Package 2 (212 + Get + Replace, server
 * md5 Cred), Package 3 (Status + Results), Package 4 (Status, Final). Every message goes through
 * the real encoder and decoder; no HTTP.
 */
import { pathToFileURL } from "node:url";
import type { Encoding } from "../src/omadm/model/message.js";
import { DmClient } from "../src/omadm/session/client.js";
import { DmServer } from "../src/omadm/session/server.js";
import type { ServerClientRecord } from "../src/omadm/session/server-app.js";
import type { DmTransport } from "../src/omadm/session/transport.js";
import type { OutCommand } from "../src/omadm/session/types.js";
import { DmTree } from "../src/omadm/tree/dm-tree.js";
import { mountDevInfo } from "../src/omadm/tree/std/devinfo.js";
import {
  readDmAccount,
  updateDmAccountNonces,
  writeDmAccount,
} from "../src/omadm/tree/std/dmacc.js";
import type { Figure } from "./figure.js";

const SERVER_ID = "bench-server";
const SERVER_URI = "http://127.0.0.1/dm";

interface Rig {
  run(): Promise<void>;
}

function rig(encoding: Encoding): Rig {
  const tree = new DmTree();
  mountDevInfo(tree, { devId: "IMEI:490154203237518", man: "Bench", mod: "B1" });
  const zero = new Uint8Array(16);
  writeDmAccount(tree, {
    serverId: SERVER_ID,
    name: "bench",
    serverUri: SERVER_URI,
    authType: "DIGEST",
    client: { name: "dev", secret: "client-secret", nonce: zero },
    server: { name: SERVER_ID, secret: "server-secret", nonce: zero },
  });
  tree.ensureInterior("./Vendor", {
    acl: `Add=${SERVER_ID}&Get=${SERVER_ID}&Replace=${SERVER_ID}`,
  });
  tree.setLeaf("./Vendor/Level", "0", { format: "chr" });

  let record: ServerClientRecord = {
    client: { name: "dev", secret: "client-secret", nonce: zero, scheme: "md5" },
    server: { name: SERVER_ID, secret: "server-secret", nonce: zero, scheme: "md5" },
  };
  let level = 0;
  const server = new DmServer({
    serverUri: SERVER_URI,
    app: {
      findClient: (q) => (q.name === undefined || q.name === "dev" ? record : undefined),
      saveNonce: (_name, role, nonce) => {
        record =
          role === "client"
            ? { ...record, client: { ...record.client, nonce } }
            : { ...record, server: { ...record.server!, nonce } };
      },
      onSessionStart: (): OutCommand[] => [
        { kind: "Get", items: [{ target: { locUri: "./DevInfo/Mod" } }] },
        {
          kind: "Replace",
          items: [
            {
              target: { locUri: "./Vendor/Level" },
              meta: { format: "chr" },
              data: String(++level),
            },
          ],
        },
      ],
      onPackage: () => [],
    },
  });
  const transport: DmTransport = async (req) => {
    const reply = await server.handleBody(req.body, req.headers["x-syncml-hmac"]);
    return { body: reply.body, mediaType: reply.mediaType, headers: reply.headers };
  };
  return {
    async run() {
      const client = new DmClient({
        tree,
        account: readDmAccount(tree, SERVER_ID)!,
        transport,
        encoding,
        hooks: { persistNonces: (u) => updateDmAccountNonces(tree, SERVER_ID, u) },
      });
      const result = await client.start();
      if (result.outcome !== "completed" || result.messages !== 2) {
        throw new Error(`bench session ended ${result.outcome} after ${result.messages} messages`);
      }
    },
  };
}

interface Rate {
  /** Sessions per wall-clock second. */
  readonly wall: number;
  /** Sessions per second of this process's CPU time: steadier on a shared machine. */
  readonly cpu: number;
}

async function measure(encoding: Encoding, seconds: number): Promise<Rate> {
  const r = rig(encoding);
  for (let i = 0; i < 300; i++) await r.run(); // warm-up
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  let n = 0;
  while (performance.now() < deadline) {
    for (let i = 0; i < 50; i++) await r.run();
    n += 50;
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { wall: n / ((performance.now() - start) / 1000), cpu: n / cpuSeconds };
}

/** The target for full authenticated sessions. */
const TARGET = 5000;

export async function benchSession(): Promise<Figure[]> {
  const out: Figure[] = [];
  for (const encoding of ["xml", "wbxml"] as const) {
    const rate = await measure(encoding, 2);
    const name = `omadm.session.md5.4pkg.${encoding}`;
    out.push({ name, value: Math.round(rate.wall), unit: "sessions/s", min: TARGET });
    out.push({ name: `${name}.cpu`, value: Math.round(rate.cpu), unit: "sessions/cpu-s" });
  }
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await benchSession()) console.log(`${r.name}: ${r.value} ${r.unit}`);
}
