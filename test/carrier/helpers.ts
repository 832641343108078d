// A carrier on real HTTP (port 0), a real store (SQLite in a temp dir, or a fresh schema on the
// machine's PostgreSQL: test/store/backends.ts), a real software keystore, and real emulated
// devices manufactured with the carrier's slot-key API.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { JWK } from "jose";
import type { CarrierOptions, RootAppOptions } from "../../src/carrier/index.js";
import { createCarrierApp, issueAdminToken } from "../../src/carrier/index.js";
import {
  createOemCa,
  type Device,
  type ManufactureRecord,
  manufactureDevice,
  type OemCa,
} from "../../src/device/index.js";
import { type Keystore, openSoftwareKeystore, type WrappedKey } from "../../src/keystore/index.js";
import type { Store } from "../../src/store/index.js";
import { BACKENDS as STORE_BACKENDS, type TestBackend } from "../store/backends.js";

export const CARRIER = "acme";

/** The store backends every carrier suite runs on (each test file loops over them). */
export const BACKENDS: readonly TestBackend["name"][] = STORE_BACKENDS.map((b) => b.name);
export type BackendName = TestBackend["name"];

export interface Clock {
  now: number | null;
  read: () => number;
}

export interface Lab {
  root: string;
  backend: BackendName;
  store: Store;
  keystore: Keystore;
  ca: OemCa;
  app: FastifyInstance;
  base: string;
  token: string;
  clock: Clock;
  verdictJwk: JWK;
  /** fetch against the carrier's routes (`/carriers/acme` + path). */
  call(path: string, init?: RequestInit & { json?: unknown; admin?: boolean }): Promise<Response>;
  close(): Promise<void>;
}

let labCa: Promise<OemCa> | undefined;

/** One OEM CA per test process: making one costs a key generation. */
export function sharedOemCa(): Promise<OemCa> {
  labCa ??= createOemCa({ name: "Test OEM" });
  return labCa;
}

/** One carrier on `backend` (default SQLite); `close()` drops its database (PostgreSQL schema). */
export async function makeLab(
  extra: Partial<CarrierOptions> & { http?: RootAppOptions; backend?: BackendName } = {},
): Promise<Lab> {
  const { backend = "sqlite", ...options } = extra;
  const root = await mkdtemp(join(tmpdir(), "dmguard-carrier-"));
  const clock: Clock = { now: null, read: () => clock.now ?? Date.now() };
  const target = await STORE_BACKENDS.find((b) => b.name === backend)!.setup();
  const store = await target.open({ now: clock.read });
  const keystore = await openSoftwareKeystore({ dir: join(root, "keystore") });
  const ca = await sharedOemCa();
  const app = await createCarrierApp({
    carrierId: CARRIER,
    store,
    keystore,
    oemCaCertificatePems: [ca.certificatePem],
    clock: clock.read,
    ...options,
  });
  const base = await app.listen({ port: 0, host: "127.0.0.1" });
  const token = await issueAdminToken(store, CARRIER);
  const call = carrierCaller(base, token);
  const lab: Lab = {
    root,
    backend,
    store,
    keystore,
    ca,
    app,
    base,
    token,
    clock,
    verdictJwk: {},
    call,
    async close() {
      await app.close();
      await keystore.close();
      await store.close();
      await target.cleanup();
      await rm(root, { recursive: true, force: true });
    },
  };
  const vk = (await (await lab.call("/verdict-key")).json()) as { jwk: JWK };
  lab.verdictJwk = vk.jwk;
  return lab;
}

/** fetch against `/carriers/acme` + path on `base`; `admin: true` adds the bearer token. */
export function carrierCaller(base: string, token: string): Lab["call"] {
  return (path, init = {}) => {
    const { json, admin, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (json !== undefined) headers.set("content-type", "application/json");
    if (admin) headers.set("authorization", `Bearer ${token}`);
    return fetch(`${base}/carriers/${CARRIER}${path}`, {
      method: json !== undefined ? "POST" : "GET",
      ...rest,
      headers,
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
  };
}

/** What the factory line needs of a carrier: a lab, or a carrier server run elsewhere. */
export type Factory = Pick<Lab, "root" | "ca" | "verdictJwk" | "base" | "call">;

export interface MadeDevice {
  device: Device;
  record: ManufactureRecord;
  dir: string;
}

let serial = 0;

/**
 * The factory line: the TSZ's HPKE key goes to the carrier's slot-key API, the wrapped key
 * comes back into the TSZ (deposit), the carrier's verdict key is pinned, and the device is
 * registered in the inventory with its attestation certificate (unless `register: false`).
 */
export async function manufacture(
  lab: Factory,
  opts: {
    model?: string;
    imei?: string;
    meid?: string | null;
    counterfeit?: boolean;
    register?: boolean;
    userGroup?: string;
  } = {},
): Promise<MadeDevice> {
  serial += 1;
  const dir = join(lab.root, `dev-${serial}`);
  const { device, record } = await manufactureDevice(dir, {
    model: opts.model ?? "dmg-phone-1",
    ...(opts.imei ? { imei: opts.imei } : {}),
    ...(opts.meid !== undefined ? { meid: opts.meid } : {}),
    carrier: CARRIER,
    oemCa: lab.ca,
    counterfeit: opts.counterfeit ?? false,
    verdictKeys: [{ carrier: CARRIER, jwk: lab.verdictJwk }],
    serverUrl: lab.base,
    wrappedSlotKey: async (pk) => {
      const res = await lab.call("/slot-keys", {
        json: { hpkePublicKey: Buffer.from(pk).toString("base64url") },
        admin: true,
      });
      if (res.status !== 200) throw new Error(`slot-keys answered ${res.status}`);
      return ((await res.json()) as { wrapped: WrappedKey }).wrapped;
    },
  });
  if (opts.register !== false) {
    const res = await lab.call("/inventory?mode=upsert", {
      json: [
        {
          imei: record.imei,
          meid: record.meid,
          esn: record.esn,
          model: record.model,
          kid: record.kid,
          attestationKey: record.attestationCertificatePem,
          userGroup: opts.userGroup ?? "worker",
        },
      ],
      admin: true,
    });
    if (res.status !== 200)
      throw new Error(`inventory answered ${res.status}: ${await res.text()}`);
  }
  return { device, record, dir };
}

export interface VerdictBody {
  verdict: string;
  decision: "approved" | "denied";
  reasons: string[];
  networkAccess: "full" | "limited";
  carrier: string;
  imei: string;
  nonce: string;
  dmAccount: {
    serverUri: string;
    serverId: string;
    authType: string;
    client: { name: string; secret: string; nonce: string };
    server: { name: string; secret: string; nonce: string };
  } | null;
}

export async function fetchNonce(lab: Lab): Promise<string> {
  const res = await lab.call("/activation/nonce", { method: "POST" });
  if (res.status !== 200) throw new Error(`nonce answered ${res.status}`);
  return ((await res.json()) as { nonce: string }).nonce;
}

export async function submit(lab: Lab, evidence: string): Promise<VerdictBody> {
  const res = await lab.call("/activation/evidence", { json: { evidence } });
  if (res.status !== 200) throw new Error(`evidence answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as VerdictBody;
}

/** Nonce → evidence → verdict; the verdict handed to the TSZ. */
export async function activate(
  lab: Lab,
  device: Device,
): Promise<{
  body: VerdictBody;
  evidence: string;
  toggle: Awaited<ReturnType<Device["acceptVerdict"]>> | Error;
}> {
  const nonce = await fetchNonce(lab);
  const { evidence } = await device.verify(nonce);
  const body = await submit(lab, evidence);
  let toggle: Awaited<ReturnType<Device["acceptVerdict"]>> | Error;
  try {
    toggle = await device.acceptVerdict(body.verdict);
  } catch (err) {
    toggle = err as Error;
  }
  return { body, evidence, toggle };
}
