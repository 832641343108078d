// The whole third-party stack on one app, as `dmguard up` mounts it: carriers acme and globex,
// the platform (its own keystore), the enterprise initech forwarding acme's devices to acme's
// server and globex's to the platform. Real HTTP on port 0, real SQLite in a temp dir, real
// keystores, real emulated devices.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { JWK } from "jose";
import { createRootApp, issueAdminToken, registerCarrier } from "../../src/carrier/index.js";
import {
  createOemCa,
  type Device,
  type ManufactureRecord,
  manufactureDevice,
  type OemCa,
} from "../../src/device/index.js";
import { issueEnterpriseAdminToken, registerEnterprise } from "../../src/enterprise/index.js";
import { importRecipientPublicKey, sealDeviceKey } from "../../src/keystore/hpke-suite.js";
import { type Keystore, openSoftwareKeystore } from "../../src/keystore/index.js";
import { issuePlatformToken, registerPlatform } from "../../src/platform/index.js";
import { openStore, type Store, sqliteUrlFor } from "../../src/store/index.js";

export const CARRIERS = ["acme", "globex"] as const;
export type CarrierId = (typeof CARRIERS)[number];
export const ENTERPRISE = "initech";

export interface Clock {
  now: number | null;
  read: () => number;
}

export interface Stack {
  root: string;
  dataDir: string;
  platformKeystoreDir: string;
  store: Store;
  carrierKs: Keystore;
  platformKs: Keystore;
  ca: OemCa;
  app: FastifyInstance;
  base: string;
  clock: Clock;
  carrierAdmin: Record<CarrierId, string>;
  /** Per carrier: a platform token with custody and verify scopes. */
  carrierToken: Record<CarrierId, string>;
  operatorToken: string;
  enterpriseAdmin: string;
  pinned: Record<CarrierId, Array<{ carrier: string; jwk: JWK }>>;
  call(
    path: string,
    init?: { json?: unknown; token?: string; method?: string; body?: string; type?: string },
  ): Promise<Response>;
  close(): Promise<void>;
}

let sharedCa: Promise<OemCa> | undefined;

export async function makeStack(): Promise<Stack> {
  const root = await mkdtemp(join(tmpdir(), "dmguard-3p-"));
  const clock: Clock = { now: null, read: () => clock.now ?? Date.now() };
  const dataDir = join(root, "data");
  const platformKeystoreDir = join(root, "platform-keystore");
  const store = await openStore(sqliteUrlFor(dataDir), { now: clock.read });
  const carrierKs = await openSoftwareKeystore({ dir: join(root, "carrier-keystore") });
  const platformKs = await openSoftwareKeystore({ dir: platformKeystoreDir });
  sharedCa ??= createOemCa({ name: "Test OEM" });
  const ca = await sharedCa;
  const oemCaCertificatePems = [ca.certificatePem];
  let base = "";
  const app = createRootApp();
  for (const c of CARRIERS) {
    await registerCarrier(app, {
      carrierId: c,
      store,
      keystore: carrierKs,
      oemCaCertificatePems,
      clock: clock.read,
    });
  }
  await registerPlatform(app, {
    store,
    keystore: platformKs,
    oemCaCertificatePems,
    carriers: CARRIERS,
    enterprises: [{ id: ENTERPRISE, carriers: [...CARRIERS] }],
    clock: clock.read,
  });
  const entToken = await issuePlatformToken(store, {
    holders: [`enterprise:${ENTERPRISE}`],
    scopes: ["verify"],
    label: "initech",
  });
  await registerEnterprise(app, {
    enterpriseId: ENTERPRISE,
    store,
    keystore: carrierKs,
    upstreams: {
      acme: { kind: "carrier", baseUrl: () => base },
      globex: { kind: "platform", baseUrl: () => base, token: entToken.token },
    },
    clock: clock.read,
  });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  const carrierAdmin = {} as Record<CarrierId, string>;
  const carrierToken = {} as Record<CarrierId, string>;
  const pinned = {} as Stack["pinned"];
  for (const c of CARRIERS) {
    carrierAdmin[c] = await issueAdminToken(store, c);
    carrierToken[c] = (
      await issuePlatformToken(store, {
        holders: [`carrier:${c}`],
        scopes: ["custody", "verify", "migrate"],
      })
    ).token;
  }
  const operatorToken = (
    await issuePlatformToken(store, { holders: ["operator"], scopes: ["operator"] })
  ).token;
  const stack: Stack = {
    root,
    dataDir,
    platformKeystoreDir,
    store,
    carrierKs,
    platformKs,
    ca,
    app,
    base,
    clock,
    carrierAdmin,
    carrierToken,
    operatorToken,
    enterpriseAdmin: await issueEnterpriseAdminToken(store, ENTERPRISE),
    pinned,
    call(path, init = {}) {
      const headers: Record<string, string> = {};
      if (init.json !== undefined) headers["content-type"] = "application/json";
      if (init.type) headers["content-type"] = init.type;
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
      return fetch(`${base}${path}`, {
        method: init.method ?? (body !== undefined ? "POST" : "GET"),
        headers,
        ...(body !== undefined ? { body } : {}),
      });
    },
    async close() {
      await app.close();
      await carrierKs.close();
      await platformKs.close();
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
  for (const c of CARRIERS) {
    const own = (await (await stack.call(`/carriers/${c}/verdict-key`)).json()) as { jwk: JWK };
    const plat = (await (await stack.call(`/platform/carriers/${c}/verdict-key`)).json()) as {
      jwk: JWK;
    };
    // The OEM pins both: the carrier's verdict key and the platform's key in its custody.
    pinned[c] = [
      { carrier: c, jwk: own.jwk },
      { carrier: c, jwk: plat.jwk },
    ];
  }
  return stack;
}

export interface MadeDevice {
  device: Device;
  record: ManufactureRecord;
  /** The raw slot key, known to the test only so it can search storage for it. */
  slotKey: Uint8Array;
}

let serial = 0;

/**
 * The factory line for a carrier that uses the platform: a slot key the test holds (the
 * emulator's test path), wrapped by HPKE to the carrier's keystore and to the platform's
 * (custody deposit), the device registered in the carrier's inventory, and enrolled at the
 * enterprise when `enrol` names a group.
 */
export async function manufacture(
  s: Stack,
  carrier: CarrierId,
  opts: {
    enrol?: string | false;
    user?: string;
    deposit?: boolean;
    register?: boolean;
    imei?: string;
  } = {},
): Promise<MadeDevice> {
  serial += 1;
  const slotKey = new Uint8Array(randomBytes(32));
  const kid = randomBytes(16).toString("hex");
  const owner = `carrier:${carrier}`;
  const { device, record } = await manufactureDevice(join(s.root, `dev-${serial}`), {
    model: "dmg-phone-1",
    ...(opts.imei ? { imei: opts.imei } : {}),
    carrier,
    oemCa: s.ca,
    verdictKeys: s.pinned[carrier],
    serverUrl: s.base,
    slotKey,
    kid,
  });
  const toCarrier = await sealDeviceKey(
    await importRecipientPublicKey(await s.carrierKs.transportPublicKey()),
    owner,
    kid,
    slotKey,
  );
  await s.carrierKs.importDeviceKey(owner, toCarrier);
  if (opts.register !== false) {
    const res = await s.call(`/carriers/${carrier}/inventory?mode=upsert`, {
      token: s.carrierAdmin[carrier],
      json: [
        {
          imei: record.imei,
          meid: record.meid,
          esn: record.esn,
          model: record.model,
          kid,
          attestationKey: record.attestationCertificatePem,
        },
      ],
    });
    if (res.status !== 200) throw new Error(`inventory: ${res.status} ${await res.text()}`);
  }
  if (opts.deposit !== false) {
    const transport = (await (await s.call("/platform/transport-key")).json()) as { jwk: unknown };
    const wrappedKey = await sealDeviceKey(
      await importRecipientPublicKey(transport.jwk),
      owner,
      kid,
      slotKey,
    );
    const res = await s.call(`/platform/custody/${carrier}/devices/${record.imei}`, {
      method: "PUT",
      token: s.carrierToken[carrier],
      json: {
        meid: record.meid,
        esn: record.esn,
        model: record.model,
        kid,
        attestationKey: record.attestationCertificatePem,
        wrappedKey,
      },
    });
    if (res.status !== 200) throw new Error(`deposit: ${res.status} ${await res.text()}`);
  }
  if (opts.enrol) {
    const res = await s.call(`/enterprises/${ENTERPRISE}/enrolment/${record.imei}`, {
      method: "PUT",
      token: s.enterpriseAdmin,
      json: { userGroup: opts.enrol, user: opts.user ?? `user-${serial}` },
    });
    if (res.status !== 200) throw new Error(`enrol: ${res.status} ${await res.text()}`);
  }
  return { device, record, slotKey };
}

/** A platform nonce and verification with `token`, as a carrier or enterprise would ask. */
export async function platformVerify(
  s: Stack,
  device: Device,
  carrier: CarrierId,
  token: string,
): Promise<Response> {
  const n = await s.call("/platform/verifications/nonce", { method: "POST", token });
  if (n.status !== 200) return n;
  const { nonce } = (await n.json()) as { nonce: string };
  const { evidence } = await device.verify(nonce, { carrier });
  return s.call("/platform/verifications", { token, json: { evidence } });
}
