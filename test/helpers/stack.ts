// What the in-process stacks of test/migration and test/platform share: a settable clock, one
// OEM CA per test process, a JSON caller for the app, the verdict keys a device pins, and the
// factory line that gives a new device's slot key to its carrier (keystore, inventory) and to
// the platform (custody deposit). Real HTTP, real HPKE; the slot key is known to the test only
// so that it can search storage and traffic for it.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { JWK } from "jose";
import {
  createOemCa,
  type Device,
  type ManufactureRecord,
  manufactureDevice,
  type OemCa,
  type SlotCount,
} from "../../src/device/index.js";
import { importRecipientPublicKey, sealDeviceKey } from "../../src/keystore/hpke-suite.js";
import type { Keystore } from "../../src/keystore/index.js";

/** `now` set: the stack's time stands still there; null: the real time. */
export interface Clock {
  now: number | null;
  read: () => number;
}

export function makeClock(): Clock {
  const clock: Clock = { now: null, read: () => clock.now ?? Date.now() };
  return clock;
}

let sharedCa: Promise<OemCa> | undefined;

/** Making a CA costs a key pair and a certificate: one serves every stack of the process. */
export function testOemCa(): Promise<OemCa> {
  sharedCa ??= createOemCa({ name: "Test OEM" });
  return sharedCa;
}

export interface CallInit {
  /** Sent as JSON (content-type application/json); the method defaults to POST. */
  json?: unknown;
  /** A raw body, with `type` as its content type. */
  body?: string;
  type?: string;
  /** Sent as `Authorization: Bearer …`. */
  token?: string;
  method?: string;
}

export type Call = (path: string, init?: CallInit) => Promise<Response>;

/** Requests to the app at `base()` (a function: the port is known only once it listens). */
export function caller(base: () => string): Call {
  return (path, init = {}) => {
    const headers: Record<string, string> = {};
    if (init.json !== undefined) headers["content-type"] = "application/json";
    if (init.type) headers["content-type"] = init.type;
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    const body = init.json !== undefined ? JSON.stringify(init.json) : init.body;
    return fetch(`${base()}${path}`, {
      method: init.method ?? (body !== undefined ? "POST" : "GET"),
      headers,
      ...(body !== undefined ? { body } : {}),
    });
  };
}

export type PinnedKey = { carrier: string; jwk: JWK };

/**
 * Per carrier, the keys the OEM pins for it: the carrier's own verdict key and the platform's
 * key for that carrier's devices in its custody.
 */
export async function pinnedVerdictKeys<C extends string>(
  call: Call,
  carriers: readonly C[],
): Promise<Record<C, PinnedKey[]>> {
  const pinned = {} as Record<C, PinnedKey[]>;
  for (const c of carriers) {
    const own = (await (await call(`/carriers/${c}/verdict-key`)).json()) as { jwk: JWK };
    const plat = (await (await call(`/platform/carriers/${c}/verdict-key`)).json()) as {
      jwk: JWK;
    };
    pinned[c] = [
      { carrier: c, jwk: own.jwk },
      { carrier: c, jwk: plat.jwk },
    ];
  }
  return pinned;
}

/** What the factory line needs of a stack. */
export interface FactoryStack {
  root: string;
  ca: OemCa;
  base: string;
  carrierKs: Keystore;
  call: Call;
  /** Per carrier: its admin token (inventory). */
  carrierAdmin: Record<string, string>;
  /** Per carrier: its platform token with the custody scope. */
  carrierToken: Record<string, string>;
}

export interface FactoryOptions {
  verdictKeys: PinnedKey[];
  imei?: string;
  slots?: SlotCount;
  /** Sent with the inventory row and the custody deposit when given (null: none). */
  contractEnd?: string | null;
  /** false: not in the carrier's inventory (grey market). */
  register?: boolean;
  /** false: no custody copy at the platform. */
  deposit?: boolean;
}

export interface MadeDevice {
  device: Device;
  record: ManufactureRecord;
  /** Slot 0's raw key, known to the test only so it can search storage and traffic for it. */
  slotKey: Uint8Array;
}

let serial = 0;

/**
 * The factory line for `carrier`: a slot key the test holds (the emulator's test path), wrapped
 * by HPKE to the carrier's keystore and, unless `deposit` is false, to the platform's (custody
 * deposit); the device in the carrier's inventory unless `register` is false.
 */
export async function manufactureFor(
  s: FactoryStack,
  carrier: string,
  opts: FactoryOptions,
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
    verdictKeys: opts.verdictKeys,
    serverUrl: s.base,
    slotKey,
    kid,
    ...(opts.slots ? { slots: opts.slots } : {}),
  });
  const contract = opts.contractEnd !== undefined ? { contractEnd: opts.contractEnd } : {};
  await s.carrierKs.importDeviceKey(
    owner,
    await sealDeviceKey(
      await importRecipientPublicKey(await s.carrierKs.transportPublicKey()),
      owner,
      kid,
      slotKey,
    ),
  );
  if (opts.register !== false) {
    const res = await s.call(`/carriers/${carrier}/inventory?mode=upsert`, {
      token: s.carrierAdmin[carrier]!,
      json: [
        {
          imei: record.imei,
          meid: record.meid,
          esn: record.esn,
          model: record.model,
          kid,
          attestationKey: record.attestationCertificatePem,
          ...contract,
        },
      ],
    });
    if (res.status !== 200) throw new Error(`inventory: ${res.status} ${await res.text()}`);
  }
  if (opts.deposit !== false) {
    const transport = (await (await s.call("/platform/transport-key")).json()) as { jwk: unknown };
    const res = await s.call(`/platform/custody/${carrier}/devices/${record.imei}`, {
      method: "PUT",
      token: s.carrierToken[carrier]!,
      json: {
        meid: record.meid,
        esn: record.esn,
        model: record.model,
        kid,
        attestationKey: record.attestationCertificatePem,
        ...contract,
        wrappedKey: await sealDeviceKey(
          await importRecipientPublicKey(transport.jwk),
          owner,
          kid,
          slotKey,
        ),
      },
    });
    if (res.status !== 200) throw new Error(`deposit: ${res.status} ${await res.text()}`);
  }
  return { device, record, slotKey };
}
