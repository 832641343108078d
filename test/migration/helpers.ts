// Carriers acme and globex and the platform on one app, as `dmguard up` mounts them, with
// migration configured: each carrier asks the platform with its own token and tells the other
// carrier directly. Real HTTP on port 0, real SQLite in a temp dir, real keystores (the
// platform's its own), real emulated devices that pin both carriers' and the platform's keys.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import {
  createRootApp,
  issueAdminToken,
  issueMigrationPeerToken,
  registerCarrier,
} from "../../src/carrier/index.js";
import {
  activateDevice,
  migrateDevice,
  type OemCa,
  type SlotCount,
} from "../../src/device/index.js";
import { type Keystore, openSoftwareKeystore } from "../../src/keystore/index.js";
import { getRecord, putRecord } from "../../src/platform/custody/records.js";
import {
  issuePlatformToken,
  type PlatformContext,
  type PlatformOptions,
  registerPlatform,
} from "../../src/platform/index.js";
import { type KvEntry, openStore, type Store, sqliteUrlFor } from "../../src/store/index.js";
import {
  type Call,
  type Clock,
  caller,
  type MadeDevice,
  makeClock,
  manufactureFor,
  type PinnedKey,
  pinnedVerdictKeys,
  testOemCa,
} from "../helpers/stack.js";
import { BACKENDS as STORE_BACKENDS } from "../store/backends.js";

export type { Clock, MadeDevice };

export const CARRIERS = ["acme", "globex"] as const;
export type CarrierId = (typeof CARRIERS)[number];

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
  pinned: PinnedKey[];
  /** acme's migration peer token for globex (with `direct`). */
  peerToken: string;
  /** Every HTTP body the app received or sent (for the key-confidentiality test). */
  wire: string[];
  /** The app's log lines (with `recordWire`). */
  logs: string[];
  /** Set to make the platform or acme's server unreachable for the carriers (then clear it). */
  outage: { platform: boolean; acme: boolean };
  /** Set to send the carriers' calls to acme (port-out notices) to a stand-in's base URL. */
  acmeAt: { url: string | null };
  call: Call;
  close(): Promise<void>;
}

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
    /** What the carriers get in place of their keystore (to watch its calls). */
    carrierKeystore?: (ks: Keystore, store: Store) => Keystore;
  } = {},
): Promise<MigrationStack> {
  const root = await mkdtemp(join(tmpdir(), "dmguard-migration-"));
  const clock = makeClock();
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
  const ca = await testOemCa();
  const oemCaCertificatePems = [ca.certificatePem];
  let base = "";
  const tokens = {} as Record<CarrierId, string>;
  let peerToken = "";
  const outage = { platform: false, acme: false };
  const acmeAt: { url: string | null } = { url: null };
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
      keystore: opts.carrierKeystore ? opts.carrierKeystore(carrierKs, store) : carrierKs,
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
          CARRIERS.map((p) => [
            p,
            () => (p !== "acme" ? base : outage.acme ? dead : (acmeAt.url ?? base)),
          ]),
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
  const call = caller(() => base);
  const pinned = Object.values(await pinnedVerdictKeys(call, CARRIERS)).flat();
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
    acmeAt,
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

/**
 * The factory line for `carrier` (../helpers/stack.ts): the device pins both carriers' and the
 * platform's keys, so it can migrate to either carrier.
 */
export function manufacture(
  s: MigrationStack,
  carrier: CarrierId,
  opts: { contractEnd?: string | null; slots?: SlotCount } = {},
): Promise<MadeDevice> {
  return manufactureFor(s, carrier, {
    verdictKeys: s.pinned,
    contractEnd: opts.contractEnd ?? null,
    ...(opts.slots ? { slots: opts.slots } : {}),
  });
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

/** The job in globex's queue that each outage holds back. */
const HELD_BACK: Record<keyof MigrationStack["outage"], string> = {
  platform: "migration-custody",
  acme: "migration-notice",
};

/**
 * An active device of acme migrated to globex, with `down` (the platform, acme's server or both)
 * made unreachable the moment globex has judged (the platform answered its question), so the
 * jobs that follow the completion there wait in globex's queue. Resolves once each of those jobs
 * has been tried and has failed, with globex's queue then; fails if the migration is not
 * approved or they have not failed within `withinMs`. The caller clears `s.outage` when the
 * jobs may be delivered.
 */
export async function migratedDuringOutage(
  s: MigrationStack,
  down: ReadonlyArray<keyof MigrationStack["outage"]>,
  withinMs = 20_000,
): Promise<MadeDevice & { imei: string; queued: KvEntry[] }> {
  const made = await activeDevice(s, "acme");
  const imei = made.record.imei;
  const r = await migrateDevice(made.device, {
    to: "carrier:globex",
    fetch: async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).endsWith("/migration/evidence")) for (const p of down) s.outage[p] = true;
      return res;
    },
  });
  if (r.verdict !== "approved") throw new Error(`migration: ${r.reasons.join(" ")}`);
  const globex = s.store.part("carrier:globex");
  const held = down.map((p) => `${imei}/${HELD_BACK[p]}`);
  const triedAll = (q: KvEntry[]) =>
    held.every((k) => {
      const job = q.find((e) => e.key === k)?.value as { attempts?: number } | undefined;
      return (job?.attempts ?? 0) > 0;
    });
  const end = Date.now() + withinMs;
  for (;;) {
    const queued = await globex.kv.list("migration/outbox", { limit: 10 });
    if (triedAll(queued)) return { ...made, imei, queued };
    if (Date.now() > end) throw new Error(`not all of ${held} failed: ${JSON.stringify(queued)}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}
