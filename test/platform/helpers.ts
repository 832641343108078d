// The whole third-party stack on one app, as `dmguard up` mounts it: carriers acme and globex,
// the platform (its own keystore), the enterprise initech forwarding acme's devices to acme's
// server and globex's to the platform. Real HTTP on port 0, real SQLite in a temp dir, real
// keystores, real emulated devices.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { createRootApp, issueAdminToken, registerCarrier } from "../../src/carrier/index.js";
import type { Device, OemCa } from "../../src/device/index.js";
import { issueEnterpriseAdminToken, registerEnterprise } from "../../src/enterprise/index.js";
import { type Keystore, openSoftwareKeystore } from "../../src/keystore/index.js";
import { issuePlatformToken, registerPlatform } from "../../src/platform/index.js";
import { openStore, type Store, sqliteUrlFor } from "../../src/store/index.js";
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

export type { Clock, MadeDevice };

export const CARRIERS = ["acme", "globex"] as const;
export type CarrierId = (typeof CARRIERS)[number];
export const ENTERPRISE = "initech";

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
  pinned: Record<CarrierId, PinnedKey[]>;
  call: Call;
  close(): Promise<void>;
}

export async function makeStack(): Promise<Stack> {
  const root = await mkdtemp(join(tmpdir(), "dmguard-3p-"));
  const clock = makeClock();
  const dataDir = join(root, "data");
  const platformKeystoreDir = join(root, "platform-keystore");
  const store = await openStore(sqliteUrlFor(dataDir), { now: clock.read });
  const carrierKs = await openSoftwareKeystore({ dir: join(root, "carrier-keystore") });
  const platformKs = await openSoftwareKeystore({ dir: platformKeystoreDir });
  const ca = await testOemCa();
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
  const call = caller(() => base);
  // The OEM pins both for each carrier: its verdict key and the platform's key in its custody.
  const pinned = await pinnedVerdictKeys(call, CARRIERS);
  return {
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
    call,
    async close() {
      await app.close();
      await carrierKs.close();
      await platformKs.close();
      await store.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * The factory line for a carrier that uses the platform (../helpers/stack.ts), the device
 * enrolled at the enterprise when `enrol` names a group.
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
  const made = await manufactureFor(s, carrier, {
    verdictKeys: s.pinned[carrier],
    ...(opts.imei ? { imei: opts.imei } : {}),
    ...(opts.register !== undefined ? { register: opts.register } : {}),
    ...(opts.deposit !== undefined ? { deposit: opts.deposit } : {}),
  });
  if (opts.enrol) {
    const res = await s.call(`/enterprises/${ENTERPRISE}/enrolment/${made.record.imei}`, {
      method: "PUT",
      token: s.enterpriseAdmin,
      json: { userGroup: opts.enrol, user: opts.user ?? `user-${made.record.imei}` },
    });
    if (res.status !== 200) throw new Error(`enrol: ${res.status} ${await res.text()}`);
  }
  return made;
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
