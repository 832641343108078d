/**
 * Fixtures for session tests: a device (DmTree with DevInfo and a DMAcc account), a scripted
 * server application, and an in-memory transport that still goes through encode/decode.
 */
import { md5 } from "../../src/omadm/auth/md5.js";
import type { AuthScheme } from "../../src/omadm/auth/schemes.js";
import { decodeMessage } from "../../src/omadm/codec.js";
import type { Encoding, Status, SyncMLMessage } from "../../src/omadm/model/message.js";
import {
  DmClient,
  type DmClientHooks,
  type DmClientOptions,
} from "../../src/omadm/session/client.js";
import { DmServer, type DmServerOptions } from "../../src/omadm/session/server.js";
import type {
  DmServerApp,
  ServerClientRecord,
  ServerSessionView,
} from "../../src/omadm/session/server-app.js";
import type { DmTransport } from "../../src/omadm/session/transport.js";
import type { CommandResponse, OutCommand, SessionOutcome } from "../../src/omadm/session/types.js";
import { DmTree } from "../../src/omadm/tree/dm-tree.js";
import { mountDevInfo } from "../../src/omadm/tree/std/devinfo.js";
import {
  type DmAccount,
  type DmAuthType,
  readDmAccount,
  updateDmAccountNonces,
  writeDmAccount,
} from "../../src/omadm/tree/std/dmacc.js";

export const SERVER_ID = "dmguard-carrier";
export const SERVER_URI = "http://127.0.0.1/dm";
export const DEV_ID = "IMEI:493005100592800";

const DMACC_TYPE: Record<AuthScheme, DmAuthType> = { basic: "BASIC", md5: "DIGEST", hmac: "HMAC" };

export interface Credentials {
  scheme: AuthScheme;
  clientName: string;
  clientSecret: string;
  serverName: string;
  serverSecret: string;
}

export function credentials(scheme: AuthScheme, withServer = true): Credentials {
  return {
    scheme,
    clientName: "device-1",
    clientSecret: "client-secret-1",
    serverName: withServer ? SERVER_ID : "",
    serverSecret: withServer ? "server-secret-1" : "",
  };
}

/** A stable non-empty starting nonce both sides agree on (as bootstrap would leave them). */
export const INITIAL_NONCE = new Uint8Array(md5("bootstrap"));

export interface DeviceNonces {
  client?: Uint8Array;
  server?: Uint8Array;
}

export function makeDevice(
  c: Credentials,
  serverUri = SERVER_URI,
  nonces: DeviceNonces = {},
): DmTree {
  const tree = new DmTree();
  mountDevInfo(tree, { devId: DEV_ID, man: "Device Factory, Inc.", mod: "SmartPhone2000" });
  const account: DmAccount = {
    serverId: SERVER_ID,
    name: "Carrier",
    serverUri,
    authType: DMACC_TYPE[c.scheme],
    client: { name: c.clientName, secret: c.clientSecret, nonce: nonces.client ?? INITIAL_NONCE },
    server: { name: c.serverName, secret: c.serverSecret, nonce: nonces.server ?? INITIAL_NONCE },
  };
  writeDmAccount(tree, account);
  tree.ensureInterior("./Vendor", {
    acl: `Add=${SERVER_ID}&Get=${SERVER_ID}&Replace=${SERVER_ID}&Delete=${SERVER_ID}&Exec=${SERVER_ID}`,
  });
  return tree;
}

export function accountOf(tree: DmTree): DmAccount {
  return readDmAccount(tree, SERVER_ID)!;
}

export function makeClient(
  tree: DmTree,
  transport: DmTransport,
  extra: Partial<DmClientOptions> & { hooks?: DmClientHooks } = {},
): DmClient {
  return new DmClient({
    tree,
    account: accountOf(tree),
    transport,
    ...extra,
    hooks: {
      persistNonces: (u) => updateDmAccountNonces(tree, SERVER_ID, u),
      ...extra.hooks,
    },
  });
}

/** The server side's store of one client, as a carrier would keep it. */
export class ClientStore {
  record: ServerClientRecord;
  saved: Array<{ role: "client" | "server"; nonce: Uint8Array }> = [];

  constructor(c: Credentials) {
    this.record = {
      client: {
        name: c.clientName,
        secret: c.clientSecret,
        nonce: INITIAL_NONCE,
        scheme: c.scheme,
      },
      ...(c.serverName
        ? {
            server: {
              name: c.serverName,
              secret: c.serverSecret,
              nonce: INITIAL_NONCE,
              scheme: c.scheme,
            },
          }
        : {}),
    };
  }

  find(name: string | undefined, clientUri: string): ServerClientRecord | undefined {
    if (name === undefined) return clientUri === DEV_ID ? this.record : undefined;
    return name === this.record.client.name ? this.record : undefined;
  }

  /** The nonces a device in step with this store holds. */
  get nonces(): DeviceNonces {
    return {
      client: this.record.client.nonce,
      ...(this.record.server ? { server: this.record.server.nonce } : {}),
    };
  }

  save(role: "client" | "server", nonce: Uint8Array): void {
    this.saved.push({ role, nonce });
    if (role === "client")
      this.record = { ...this.record, client: { ...this.record.client, nonce } };
    else if (this.record.server)
      this.record = { ...this.record, server: { ...this.record.server, nonce } };
  }
}

/** A server application that plays a script: one list of commands per package. */
export class ScriptedApp implements DmServerApp {
  readonly store: ClientStore;
  readonly script: OutCommand[][];
  readonly responses: CommandResponse[] = [];
  readonly alerts: Array<{
    code: number;
    correlator: string | undefined;
    items: readonly unknown[];
  }> = [];
  readonly outcomes: SessionOutcome[] = [];
  devInfo: ReadonlyMap<string, string> | undefined;
  packages = 0;
  alertStatus: number | undefined;
  onStart: ((s: ServerSessionView) => void) | undefined;

  constructor(store: ClientStore, script: OutCommand[][] = []) {
    this.store = store;
    this.script = script;
  }

  findClient(q: { name?: string; clientUri: string }): ServerClientRecord | undefined {
    return this.store.find(q.name, q.clientUri);
  }

  saveNonce(_name: string, role: "client" | "server", nonce: Uint8Array): void {
    this.store.save(role, nonce);
  }

  onSessionStart(
    s: ServerSessionView,
    start: { devInfo: ReadonlyMap<string, string> },
  ): OutCommand[] {
    this.devInfo = new Map(start.devInfo);
    this.onStart?.(s);
    return this.script[this.packages++] ?? [];
  }

  onAlert(
    _s: ServerSessionView,
    alert: { code: number; correlator: string | undefined; items: readonly unknown[] },
  ): number | undefined {
    this.alerts.push(alert);
    return this.alertStatus;
  }

  onResponse(_s: ServerSessionView, r: CommandResponse): void {
    this.responses.push(r);
  }

  onPackage(): OutCommand[] {
    return this.script[this.packages++] ?? [];
  }

  onSessionEnd(_s: ServerSessionView, outcome: SessionOutcome): void {
    this.outcomes.push(outcome);
  }

  /** The response to the command at `index` of the flattened script order. */
  responseTo(command: OutCommand): CommandResponse | undefined {
    return this.responses.find((r) => r.command === command);
  }
}

export function makeServer(app: DmServerApp, extra: Partial<DmServerOptions> = {}): DmServer {
  return new DmServer({ serverUri: SERVER_URI, app, ...extra });
}

export interface WireEntry {
  from: "client" | "server";
  bytes: number;
  headers: Record<string, string>;
  message: SyncMLMessage;
}

export interface Wire {
  transport: DmTransport;
  /** Every message both ways, decoded, in order. */
  log: WireEntry[];
}

/** The Status a message carries for the peer's SyncHdr. */
export function headerStatusOf(m: SyncMLMessage): Status | undefined {
  return m.body.commands.find((c): c is Status => c.kind === "Status" && c.cmdRef === "0");
}

export function statusesOf(m: SyncMLMessage): Status[] {
  return m.body.commands.filter((c): c is Status => c.kind === "Status");
}

/** In-memory transport through the real codecs: client bytes → server.handleBody → bytes. */
export function memoryTransport(
  server: DmServer,
  tamper?: (body: Uint8Array, from: "client" | "server") => Uint8Array,
): Wire {
  const log: Wire["log"] = [];
  const transport: DmTransport = async (req) => {
    const body = tamper ? tamper(req.body, "client") : req.body;
    log.push({
      from: "client",
      bytes: body.length,
      headers: { ...req.headers },
      message: decodeMessage(body).message,
    });
    const reply = await server.handleBody(body, req.headers["x-syncml-hmac"]);
    log.push({
      from: "server",
      bytes: reply.body.length,
      headers: { ...reply.headers },
      message: reply.message,
    });
    const out = tamper ? tamper(reply.body, "server") : reply.body;
    return { body: out, mediaType: reply.mediaType, headers: { ...reply.headers } };
  };
  return { transport, log };
}

export const ENCODINGS: Encoding[] = ["xml", "wbxml"];
