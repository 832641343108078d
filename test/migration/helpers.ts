// Carriers acme and globex and the platform on one app, as `dmguard up` mounts them, with
// migration configured: each carrier asks the platform with its own token and tells the other
// carrier directly. Real HTTP on port 0, real SQLite in a temp dir, real keystores (the
// platform's its own), real emulated devices that pin both carriers' and the platform's keys.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { JWK } from "jose";
import {
  createRootApp,
  issueAdminToken,
  issueMigrationPeerToken,
  registerCarrier,
} from "../../src/carrier/index.js";
import {
  activateDevice,
  createOemCa,
  type Device,
  type ManufactureRecord,
  manufactureDevice,
  type OemCa,
  type SlotCount,
} from "../../src/device/index.js";
import { importRecipientPublicKey, sealDeviceKey } from "../../src/keystore/hpke-suite.js";
import { type Keystore, openSoftwareKeystore } from "../../src/keystore/index.js";
import { getRecord, putRecord } from "../../src/platform/custody/records.js";
import {
  issuePlatformToken,
  type PlatformContext,
  type PlatformOptions,
  registerPlatform,
} from "../../src/platform/index.js";
import { openStore, type Store, sqliteUrlFor } from "../../src/store/index.js";
import { BACKENDS as STORE_BACKENDS } from "../store/backends.js";

export const CARRIERS = ["acme", "globex"] as const;
export type CarrierId = (typeof CARRIERS)[number];

export interface Clock {
  now: number | null;
  read: () => number;
}

export interface MigrationStack {
  root: string;
  dataDir: string;
  platformKeystoreDir: string;
  carrierKeystoreDir: string;
  store: Store;
  carrierKs: Keystore;
  platformKs: Keystore;
  platform: PlatformContext;
  ca: OemCa;
  app: FastifyInstance;
  base: string;
  clock: Clock;
  carrierAdmin: Record<CarrierId, string>;
  carrierToken: Record<CarrierId, string>;
  pinned: Array<{ carrier: string; jwk: JWK }>;
  /** acme's migration peer token for globex (with `direct`). */
  peerToken: string;
  /** Every HTTP body the app received or sent (for the key-confidentiality test). */
  wire: string[];
  /** The app's log lines (with `recordWire`). */
  logs: string[];
  /** Set to make the platform or acme's server unreachable for the carriers (then clear it). */
  outage: { platform: boolean; acme: boolean };
  call(path: string, init?: { json?: unknown; token?: string; method?: string }): Promise<Response>;
  close(): Promise<void>;
}

let sharedCa: Promise<OemCa> | undefined;

export async function makeMigrationStack(
  opts: {
    policies?: PlatformOptions["migrationPolicies"];
    recordWire?: boolean;
    /** globex asks acme itself (with a peer token acme issued), not the platform. */
    direct?: boolean;
    /** acme's own policy, when asked directly. */
    acmePolicy?: { subsidyLock?: string; terminatedMayPortOut?: boolean };
    /** The carriers ask a platform URL that answers 404 (the platform "down"). */
    platformDown?: boolean;
    /** The store (default SQLite in the temp folder; PostgreSQL: a fresh schema). */
    backend?: "sqlite" | "postgres";
  } = {},
): Promise<MigrationStack> {
  const root = await mkdtemp(join(tmpdir(), "dmguard-migration-"));
  const clock: Clock = { now: null, read: () => clock.now ?? Date.now() };
  const dataDir = join(root, "data");
  const platformKeystoreDir = join(root, "platform-keystore");
  const carrierKeystoreDir = join(root, "carrier-keystore");
  const target =
    opts.backend === "postgres"
      ? await STORE_BACKENDS.find((b) => b.name === "postgres")!.setup()
      : null;
  const store = target
    ? await target.open({ now: clock.read })
    : await openStore(sqliteUrlFor(dataDir), { now: clock.read });
  const carrierKs = await openSoftwareKeystore({ dir: carrierKeystoreDir });
  const platformKs = await openSoftwareKeystore({ dir: platformKeystoreDir });
  sharedCa ??= createOemCa({ name: "Test OEM" });
  const ca = await sharedCa;
  const oemCaCertificatePems = [ca.certificatePem];
  let base = "";
  const tokens = {} as Record<CarrierId, string>;
  let peerToken = "";
  const outage = { platform: false, acme: false };
  // A closed port: connection refused, as a server that is down.
  const dead = "http://127.0.0.1:9";
  const wire: string[] = [];
  // With recordWire, the request log (pino, info) is kept too, to search it for keys.
  const logs: string[] = [];
  const app = createRootApp(
    opts.recordWire
      ? { logger: { level: "debug", stream: { write: (line: string) => logs.push(line) } } }
      : {},
  );
  if (opts.recordWire) {
    app.addHook("preHandler", async (req) => {
      if (req.body !== undefined) wire.push(bodyText(req.body));
    });
    app.addHook("onSend", async (_req, _reply, payload) => {
      if (typeof payload === "string" || Buffer.isBuffer(payload)) wire.push(bodyText(payload));
      return payload;
    });
  }
  for (const c of CARRIERS) {
    await registerCarrier(app, {
      carrierId: c,
      store,
      keystore: carrierKs,
      oemCaCertificatePems,
      clock: clock.read,
      migration: {
        platform: {
          url: () =>
            opts.platformDown
              ? `${base}/no-platform`
              : outage.platform
                ? `${dead}/platform`
                : `${base}/platform`,
          token: () => tokens[c],
        },
        peers: Object.fromEntries(
          CARRIERS.map((p) => [p, () => (p === "acme" && outage.acme ? dead : base)]),
        ),
        // Background delivery of the custody deposit and the notice: quick retries here.
        delivery: { retryBaseMs: 50, retryMaxMs: 400, pollMs: 100 },
        ...(opts.direct && c === "globex"
          ? { direct: { acme: { url: () => base, token: () => peerToken } } }
          : {}),
        ...(opts.acmePolicy && c === "acme" ? { policy: opts.acmePolicy } : {}),
      },
    });
  }
  const platform = await registerPlatform(app, {
    store,
    keystore: platformKs,
    oemCaCertificatePems,
    carriers: CARRIERS,
    clock: clock.read,
    ...(opts.policies ? { migrationPolicies: opts.policies } : {}),
  });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  peerToken = await issueMigrationPeerToken(store, "acme", "globex");
  const carrierAdmin = {} as Record<CarrierId, string>;
  for (const c of CARRIERS) {
    carrierAdmin[c] = await issueAdminToken(store, c);
    tokens[c] = (
      await issuePlatformToken(store, {
        holders: [`carrier:${c}`],
        scopes: ["custody", "verify", "migrate"],
      })
    ).token;
  }
  const call: MigrationStack["call"] = (path, init = {}) => {
    const headers: Record<string, string> = {};
    if (init.json !== undefined) headers["content-type"] = "application/json";
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const body = init.json !== undefined ? JSON.stringify(init.json) : undefined;
    return fetch(`${base}${path}`, {
      method: init.method ?? (body !== undefined ? "POST" : "GET"),
      headers,
      ...(body !== undefined ? { body } : {}),
    });
  };
  const pinned: MigrationStack["pinned"] = [];
  for (const c of CARRIERS) {
    const own = (await (await call(`/carriers/${c}/verdict-key`)).json()) as { jwk: JWK };
    const plat = (await (await call(`/platform/carriers/${c}/verdict-key`)).json()) as {
      jwk: JWK;
    };
    pinned.push({ carrier: c, jwk: own.jwk }, { carrier: c, jwk: plat.jwk });
  }
  return {
    root,
    dataDir,
    platformKeystoreDir,
    carrierKeystoreDir,
    store,
    carrierKs,
    platformKs,
    platform,
    ca,
    app,
    base,
    clock,
    carrierAdmin,
    carrierToken: tokens,
    pinned,
    peerToken,
    wire,
    logs,
    outage,
    call,
    async close() {
      await app.close();
      await carrierKs.close();
      await platformKs.close();
      await store.close();
      await target?.cleanup();
      await rm(root, { recursive: true, force: true });
    },
  };
}

function bodyText(b: unknown): string {
  if (typeof b === "string") return b;
  if (Buffer.isBuffer(b)) return b.toString("latin1");
  if (b instanceof Uint8Array) return Buffer.from(b).toString("latin1");
  return JSON.stringify(b);
}

export interface MadeDevice {
  device: Device;
  record: ManufactureRecord;
  /** Slot 0's raw key, known to the test only so it can search storage and traffic for it. */
  slotKey: Uint8Array;
}

let serial = 0;

/**
 * The factory line for `carrier`: a slot key the test holds, wrapped by HPKE to the carrier's
 * keystore and to the platform (custody deposit), the device in the carrier's inventory.
 */
export async function manufacture(
  s: MigrationStack,
  carrier: CarrierId,
  opts: { contractEnd?: string | null; slots?: SlotCount } = {},
): Promise<MadeDevice> {
  serial += 1;
  const slotKey = new Uint8Array(randomBytes(32));
  const kid = randomBytes(16).toString("hex");
  const owner = `carrier:${carrier}`;
  const { device, record } = await manufactureDevice(join(s.root, `dev-${serial}`), {
    model: "dmg-phone-1",
    carrier,
    oemCa: s.ca,
    verdictKeys: s.pinned,
    serverUrl: s.base,
    slotKey,
    kid,
    ...(opts.slots ? { slots: opts.slots } : {}),
  });
  await s.carrierKs.importDeviceKey(
    owner,
    await sealDeviceKey(
      await importRecipientPublicKey(await s.carrierKs.transportPublicKey()),
      owner,
      kid,
      slotKey,
    ),
  );
  const inv = await s.call(`/carriers/${carrier}/inventory?mode=upsert`, {
    token: s.carrierAdmin[carrier],
    json: [
      {
        imei: record.imei,
        meid: record.meid,
        esn: record.esn,
        model: record.model,
        kid,
        attestationKey: record.attestationCertificatePem,
        contractEnd: opts.contractEnd ?? null,
      },
    ],
  });
  if (inv.status !== 200) throw new Error(`inventory: ${inv.status} ${await inv.text()}`);
  const transport = (await (await s.call("/platform/transport-key")).json()) as { jwk: unknown };
  const res = await s.call(`/platform/custody/${carrier}/devices/${record.imei}`, {
    method: "PUT",
    token: s.carrierToken[carrier],
    json: {
      meid: record.meid,
      esn: record.esn,
      model: record.model,
      kid,
      attestationKey: record.attestationCertificatePem,
      contractEnd: opts.contractEnd ?? null,
      wrappedKey: await sealDeviceKey(
        await importRecipientPublicKey(transport.jwk),
        owner,
        kid,
        slotKey,
      ),
    },
  });
  if (res.status !== 200) throw new Error(`deposit: ${res.status} ${await res.text()}`);
  return { device, record, slotKey };
}

/** Manufactured for `carrier` and activated there (approved, its profile provisioned). */
export async function activeDevice(
  s: MigrationStack,
  carrier: CarrierId,
  opts: { contractEnd?: string | null; slots?: SlotCount } = {},
): Promise<MadeDevice> {
  const made = await manufacture(s, carrier, opts);
  const r = await activateDevice(made.device, { via: `carrier:${carrier}` });
  if (r.verdict !== "approved") throw new Error(`activation: ${r.reasons.join(" ")}`);
  return made;
}

/** Sets fields of a device's custody record at the platform (as the carrier's sync would). */
export async function setCustody(
  s: MigrationStack,
  carrier: CarrierId,
  imei: string,
  patch: { status?: "active" | "blocked" | "terminated"; activatedAt?: number | null },
): Promise<void> {
  const rec = await getRecord(s.platform, carrier, imei);
  if (!rec) throw new Error(`no custody record of ${imei} at ${carrier}`);
  await putRecord(s.platform, carrier, { ...rec, ...patch, updatedAt: Date.now() });
}

/** A carrier's admin view of a device (`GET /carriers/{id}/devices/{imei}`): status and body. */
export async function lookup(
  s: MigrationStack,
  carrier: CarrierId,
  imei: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await s.call(`/carriers/${carrier}/devices/${imei}`, {
    token: s.carrierAdmin[carrier],
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/**
 * Waits until every carrier's migration queue (custody deposit, notice to the old carrier) is
 * delivered, as it is in the background after a migration; fails with what is left.
 */
export async function migrationDelivered(s: MigrationStack, withinMs = 20_000): Promise<void> {
  const end = Date.now() + withinMs;
  for (;;) {
    const left: unknown[] = [];
    for (const c of CARRIERS) {
      for (const ns of ["migration/outbox", "platform-sync/outbox"]) {
        left.push(...(await s.store.part(`carrier:${c}`).kv.list(ns, { limit: 100 })));
      }
    }
    if (left.length === 0) return;
    if (Date.now() > end) throw new Error(`still queued: ${JSON.stringify(left)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
