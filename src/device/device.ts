import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import { resolve } from "node:path";
import type { JWK } from "jose";
import type { DeviceReason } from "../evidence/reasons.js";
import {
  findModel,
  generateImei,
  generateMeid,
  isValidMeid,
  pseudoEsn,
} from "../identity/index.js";
import { isWrappedKey, type WrappedKey } from "../keystore/hpke-recipient.js";
import { HPKE_SUITE, importRecipientPublicKey, sealDeviceKey } from "../keystore/hpke-suite.js";
import { lockDevice, unlockDevice } from "./device-lock.js";
import { DeviceError } from "./errors.js";
import {
  type DeviceConfig,
  type EnterpriseDecision,
  readDeviceConfig,
  readEnterpriseDecision,
  readProfileFile,
  readReportedIdentity,
} from "./normal/device-files.js";
import { fromTreeAccount, readTreeAccount } from "./normal/dm-account.js";
import { DeviceDmClient } from "./normal/dm-client.js";
import { settleStagedMigration } from "./normal/dm-migration-stage.js";
import { loadDmTree } from "./normal/dm-tree-file.js";
import { writeFactoryImage, writePayloadFile } from "./normal/factory-image.js";
import { DEVICE_PATHS, within } from "./normal/layout.js";
import { decodePayload, encodeBody, encodePayload } from "./normal/payload-format.js";
import {
  BOOTSTRAP_SCHEMA_ID,
  type BootstrapBody,
  bootstrapProblems,
  type DmAccount,
  type InitialSettings,
} from "./normal/payload-schema.js";
import { tamperDevice } from "./normal/tamper.js";
import { createOemCa, issueDeviceCertificate, type OemCa } from "./oem-ca.js";
import { TszClient } from "./tsz/client.js";
import type { DepositOutcome, TszStatus, VerdictOutcome } from "./tsz/messages.js";
import type { TszPool } from "./tsz/pool.js";
import { sealedStateExists, tszDir } from "./tsz/sealed-store.js";
import type { NetworkAccess, VerdictValue } from "./tsz/state.js";
import {
  CARRIER_ID,
  isSlotCount,
  KEY_ID,
  MODEL_NAME,
  SLOT_KEY_BYTES,
  type SlotCount,
} from "./validate.js";

/**
 * The emulated device as the CLI and the fleet simulator use it: the normal world's files plus
 * a handle on its TSZ. Everything secret stays behind the TSZ's message API.
 */

/** What the OEM decides before it talks to the carrier (`prepareDevice`). */
export interface PrepareOptions {
  model: string;
  /** Fused IMEI; default: a valid new one for the model. Not validated here: a counterfeit's may be bad. */
  imei?: string;
  /** Fused MEID for CDMA models; default: a new one when the model is CDMA, else none. */
  meid?: string | null;
  /** The first carrier (slot 0's). */
  carrier: string;
  slots?: SlotCount;
  oemCa: OemCa;
  /** Certificate from another CA than `oemCa` (a counterfeit device). */
  counterfeit?: boolean;
  /** Verdict-signing public keys of the servers the device trusts, pinned now. */
  verdictKeys: Array<{ carrier: string; jwk: JWK; kid?: string }>;
  /** The stack's base URL, learned at manufacture; default http://127.0.0.1:8080. */
  serverUrl?: string;
  /** Overrides of the generated bootstrap DM account and settings. */
  dmAccount?: Partial<DmAccount>;
  settings?: Partial<InitialSettings>;
  pool?: TszPool;
}

/**
 * `manufactureDevice` in one call. Slot 0's key comes one of two ways, exactly one given:
 * - `wrappedSlotKey` (the real one): called with the TSZ's HPKE public key, it asks the carrier's
 *   keystore for a new key wrapped to it, e.g.
 *   `async (pk) => (await keystore.createDeviceKey("carrier:acme", pk)).wrapped`;
 *   the key exists only in that keystore and in the TSZ.
 * - `slotKey` + `kid` (tests and benchmarks only): a raw key the caller already holds. It is
 *   wrapped here to the TSZ's HPKE key with the suite's sender half and deposited like any
 *   carrier's key, so the TSZ's message API never carries a raw key either way.
 */
export interface ManufactureOptions extends PrepareOptions {
  wrappedSlotKey?: (hpkePublicKey: Uint8Array) => Promise<WrappedKey>;
  /** Test only: slot 0's raw 256-bit key (see above). */
  slotKey?: Uint8Array;
  /** Test only: the raw key's id (with `slotKey`); with `wrappedSlotKey` the blob names it. */
  kid?: string;
}

/** What the OEM hands the carrier's inventory (DESIGN.md, Manufacture). No key material. */
export interface ManufactureRecord {
  imei: string;
  meid: string | null;
  esn: string | null;
  model: string;
  carrier: string;
  kid: string;
  slotCount: SlotCount;
  oemId: string;
  counterfeit: boolean;
  attestationCertificatePem: string;
  /** The bootstrap DM account preloaded in the payload (the carrier's DM server needs it). */
  dmAccount: DmAccount;
}

/** The record before slot 0's key is deposited: everything but the key id. */
export type PreparedRecord = Omit<ManufactureRecord, "kid">;

/** CONTRACT.md `device activate --json`, as far as the device knows it. */
export interface LastVerdict {
  verdict: VerdictValue;
  reasons: string[];
  toggleKey: 0 | 1;
  networkAccess: NetworkAccess;
  carrier: string;
  via: string;
  profile: Record<string, unknown> | null;
}

/** CONTRACT.md `device status --json`. */
export interface DeviceStatus {
  imei: string;
  meid: string | null;
  model: string;
  toggleKey: 0 | 1;
  slots: Array<{ index: number; carrier: string; kid: string }>;
  activeCarrier: string | null;
  networkAccess: "none" | NetworkAccess;
  profile: Record<string, unknown> | null;
  lastVerdict: LastVerdict | null;
}

export interface VerifyOptions {
  /** The carrier whose slot proves possession (migration: the old carrier's); default slot 0's. */
  carrier?: string;
  /** Migration evidence for this carrier (claims `migrateTo` and the TSZ's HPKE key). */
  migrateTo?: string;
}

export class Device {
  readonly dir: string;
  /** The TSZ handle (message API only). */
  readonly tsz: TszClient;

  private constructor(dir: string, tsz: TszClient) {
    this.dir = dir;
    this.tsz = tsz;
  }

  /**
   * The only way to a handle (every factory goes through here), so that what a crash during a
   * migration left staged is finished or dropped (dm-migration-stage.ts) once, before anything
   * reads the device, however the handle was got. With nothing staged it writes nothing and does
   * not ask the TSZ. On failure the TSZ handle is closed.
   */
  static async create(dir: string, tsz: TszClient): Promise<Device> {
    try {
      await settleStagedMigration(dir, tsz);
    } catch (err) {
      await tsz.close().catch(() => undefined);
      throw err;
    }
    return new Device(dir, tsz);
  }

  /**
   * Runs the verification application for the server's `nonce` and returns the signed evidence
   * (compact JWS, EVIDENCE.md) and the reasons found. The normal world only supplies the
   * identity it reports; the TSZ reads everything else itself.
   */
  async verify(
    nonce: string,
    opts: VerifyOptions = {},
  ): Promise<{ evidence: string; reasons: DeviceReason[] }> {
    const reported = (await readReportedIdentity(this.dir)) ?? { imei: "", meid: null };
    return this.tsz.verify(nonce, reported, opts.carrier ?? null, opts.migrateTo ?? null);
  }

  /** Hands a server verdict to the TSZ; it sets the toggle key only if the verdict checks out. */
  acceptVerdict(jws: string): Promise<VerdictOutcome> {
    return this.tsz.acceptVerdict(jws);
  }

  mayProvision(): Promise<boolean> {
    return this.tsz.mayProvision();
  }

  /** The TSZ's HPKE public key (65 bytes, `0x04 ‖ X ‖ Y`), as `createDeviceKey` takes it. */
  async hpkePublicKey(): Promise<Uint8Array> {
    return (await this.tsz.hpkePublicKey()).publicKey;
  }

  /**
   * Deposits a key that `carrier`'s keystore wrapped to this TSZ (DESIGN.md, Migration): the TSZ
   * opens it inside and puts it in a free slot; it reports the slot (the one it is already in,
   * for the same key twice) or refuses with a typed error, nothing changed.
   */
  depositKey(carrier: string, wrapped: WrappedKey): Promise<DepositOutcome> {
    return this.tsz.depositKey(carrier, wrapped);
  }

  tamper(kind: string): Promise<void> {
    return tamperDevice(this.dir, kind);
  }

  /**
   * Factory reset: the TSZ keeps its keys and sets the toggle key to 1 (and forgets its last
   * verdict); the normal world loses what was provisioned (profile, DM tree). The preloaded
   * payload, like a ROM partition, stays.
   */
  async factoryReset(): Promise<void> {
    await this.tsz.factoryReset();
    await rm(within(this.dir, DEVICE_PATHS.profile), { force: true });
    await rm(within(this.dir, DEVICE_PATHS.dmTree), { force: true });
    await rm(within(this.dir, DEVICE_PATHS.enterpriseDecision), { force: true });
  }

  /**
   * A pure read, so that looking at a device never changes it: what a crash during a migration
   * left staged was settled when the handle was made (`Device.create`).
   */
  async status(): Promise<DeviceStatus> {
    const [t, profile, enterprise] = await Promise.all([
      this.tsz.status(),
      readProfileFile(this.dir),
      readEnterpriseDecision(this.dir),
    ]);
    return statusFrom(t, profile?.value ?? null, enterprise, profile?.mtimeMs ?? null);
  }

  /**
   * The DM account the DM client keeps in ./DMAcc (CONTRACT.md `device dm-account`): the one it
   * used last, with its rotated nonces; before its first session (or after a factory reset),
   * the bootstrap account of the preloaded payload.
   */
  async dmAccount(): Promise<DmAccount> {
    const tree = await loadDmTree(this.dir);
    const saved = tree ? readTreeAccount(tree) : undefined;
    if (saved) return fromTreeAccount(saved);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(within(this.dir, DEVICE_PATHS.payload)));
    } catch {
      throw new DeviceError("PAYLOAD_UNREADABLE", "the OMA DM payload is missing");
    }
    return decodePayload(bytes).body.dmAccount;
  }

  /** The normal world's DM client (its tree loaded, or bootstrapped from the payload). */
  dmClient(): Promise<DeviceDmClient> {
    return DeviceDmClient.open(this.dir, this);
  }

  config(): Promise<DeviceConfig | null> {
    return readDeviceConfig(this.dir);
  }

  attestationCertificatePem(): Promise<string> {
    return this.tsz.certificatePem();
  }

  close(): Promise<void> {
    return this.tsz.close();
  }
}

/**
 * The device's state for `device status`. After an activation through an enterprise (`decision`
 * bound to the TSZ's last verdict) it shows the MDAS's answer — decision, reasons, network
 * access, via, the group content — as `activate` did; the toggle key stays the TSZ's (integrity).
 */
export function statusFrom(
  t: TszStatus,
  profile: Record<string, unknown> | null,
  decision: EnterpriseDecision | null = null,
  /** When profile.json was written (ms since the epoch), if known. */
  profileAt: number | null = null,
): DeviceStatus {
  const v = t.lastVerdict;
  if (v && decision && decision.tszAcceptedAt === v.acceptedAt && decision.carrier === v.carrier) {
    return {
      imei: t.imei,
      meid: t.meid,
      model: t.model,
      toggleKey: t.toggleKey,
      slots: t.slots,
      activeCarrier: decision.verdict === "approved" ? v.carrier : null,
      networkAccess: decision.networkAccess,
      profile: decision.profile,
      lastVerdict: {
        verdict: decision.verdict,
        reasons: decision.reasons,
        toggleKey: t.toggleKey,
        networkAccess: decision.networkAccess,
        carrier: v.carrier,
        via: decision.via,
        profile: decision.profile,
      },
    };
  }
  // Full access comes with the profile provisioned under this verdict (the carrier lists the
  // device as full once that DM session ended): approved but not provisioned, or holding only
  // an earlier verdict's profile (a later session cut short), is limited.
  const provisioned =
    profile !== null && (v === null || profileAt === null || profileAt >= Date.parse(v.acceptedAt));
  const access = v
    ? v.networkAccess === "full" && !provisioned
      ? "limited"
      : v.networkAccess
    : "none";
  return {
    imei: t.imei,
    meid: t.meid,
    model: t.model,
    toggleKey: t.toggleKey,
    slots: t.slots,
    activeCarrier: v?.verdict === "approved" ? v.carrier : null,
    networkAccess: access,
    profile,
    lastVerdict: v
      ? {
          verdict: v.verdict,
          reasons: v.reasons,
          toggleKey: t.toggleKey,
          networkAccess: v.networkAccess,
          carrier: v.carrier,
          via: v.via,
          profile,
        }
      : null,
  };
}

/** Opens a manufactured device (a migration a crash interrupted is settled by `Device.create`). */
export async function openDevice(dir: string, opts: { pool?: TszPool } = {}): Promise<Device> {
  const abs = resolve(dir);
  return Device.create(abs, await TszClient.open(abs, opts.pool));
}

function invalid(message: string): DeviceError {
  return new DeviceError("DEVICE_INVALID_OPTIONS", message);
}

let counterfeitCa: Promise<OemCa> | undefined;

function secret(): string {
  return randomBytes(18).toString("base64url");
}

function nonce(): string {
  return randomBytes(16).toString("base64");
}

/** The bootstrap body: the generated DM account and settings, with the caller's overrides. */
function bootstrapBody(opts: PrepareOptions, imei: string, serverUrl: string): BootstrapBody {
  const serverId = `${opts.carrier}-dm`;
  const dmAccount: DmAccount = {
    serverUri: `${serverUrl.replace(/\/+$/, "")}/carriers/${opts.carrier}/dm`,
    serverId,
    authType: "DIGEST",
    client: { name: `IMEI:${imei}`, secret: secret(), nonce: nonce() },
    server: { name: serverId, secret: secret(), nonce: nonce() },
    ...opts.dmAccount,
  };
  const settings: InitialSettings = {
    carrier: opts.carrier,
    apn: `internet.${opts.carrier}`,
    pollMinutes: 1440,
    ...opts.settings,
  };
  return { schema: BOOTSTRAP_SCHEMA_ID, dmAccount, settings };
}

/**
 * The key ids the suite accepts in a wrapped key (hpke-suite.ts decides; asked, not copied): a
 * raw test key with another id could never be deposited.
 */
function isSuiteKid(kid: string): boolean {
  return isWrappedKey({
    v: 1,
    kem: HPKE_SUITE.kem,
    kdf: HPKE_SUITE.kdf,
    aead: HPKE_SUITE.aead,
    owner: "carrier:x",
    kid,
    enc: "A".repeat(87),
    ct: "A".repeat(64),
  });
}

/**
 * A device between the two phases of manufacture: the TSZ exists (identity, attestation key and
 * OEM certificate, HPKE key, reference measurements, toggle key 1) and so does the normal world,
 * but not yet slot 0's key nor the payload. The OEM sends `hpkePublicKey` to the carrier, passes
 * the wrapped key it gets back to `device.depositKey`, then calls `complete()`. The TSZ refuses
 * to verify until then.
 */
export class PreparedDevice {
  readonly device: Device;
  /** The TSZ's HPKE public key (65 bytes) that the carrier wraps slot 0's key to. */
  readonly hpkePublicKey: Uint8Array;
  readonly record: PreparedRecord;
  readonly #body: BootstrapBody;

  constructor(
    device: Device,
    hpkePublicKey: Uint8Array,
    record: PreparedRecord,
    body: BootstrapBody,
  ) {
    this.device = device;
    this.hpkePublicKey = hpkePublicKey;
    this.record = record;
    this.#body = body;
  }

  /**
   * Writes the payload, whose key check value the TSZ makes from the key deposited for the
   * record's carrier (the normal world never sees the key), and has the TSZ measure and fuse it.
   * Before the TSZ has committed, a crash leaves an unfinished device (`abandon` and start over).
   */
  async complete(): Promise<{ device: Device; record: ManufactureRecord }> {
    const { tsz } = this.device;
    const { kid, kcv } = await tsz.keyCheckValue(this.record.carrier);
    const payload = encodePayload({ kid, kcv, body: encodeBody(this.#body) });
    await writePayloadFile(this.device.dir, payload);
    await tsz.fusePayload();
    return { device: this.device, record: { ...this.record, kid } };
  }

  /**
   * Scraps an unfinished device: closes it and removes its TSZ storage, so the directory can be
   * manufactured again. Does nothing to a device whose manufacture completed.
   */
  abandon(): Promise<void> {
    return scrapUnfinished(this.device);
  }
}

async function scrapUnfinished(device: Device): Promise<void> {
  const phase = (await device.tsz.status().catch(() => null))?.phase;
  await device.close();
  if (phase !== "ready") await rm(tszDir(device.dir), { recursive: true, force: true });
}

/**
 * The OEM's factory line, first phase: writes the normal world (all but the payload), then
 * manufactures the TSZ (attestation key generated inside, certificate from `oemCa`, or from
 * another CA when `counterfeit`), fusing the identity, the pinned verdict keys and the reference
 * measurements of the tree just written, and making its HPKE key. Nothing is written before the
 * options are checked; a failure before the TSZ seals its state leaves no device.
 */
export async function prepareDevice(dir: string, opts: PrepareOptions): Promise<PreparedDevice> {
  const abs = resolve(dir);
  if (!MODEL_NAME.test(opts.model)) throw invalid("model is not a model name");
  if (!CARRIER_ID.test(opts.carrier)) throw invalid("carrier is not a carrier id");
  const slotCount = opts.slots ?? 8;
  if (!isSlotCount(slotCount)) throw invalid("slots must be 8, 16 or 24");
  if (await sealedStateExists(abs)) {
    throw new DeviceError("DEVICE_EXISTS", `a device is already manufactured in ${abs}`);
  }
  const model = findModel(opts.model);
  let imei = opts.imei;
  if (imei === undefined) {
    if (!model)
      throw invalid(`unknown model ${opts.model}: give an IMEI or a model of the TAC table`);
    imei = generateImei(opts.model);
  }
  const meid = opts.meid === undefined ? (model?.cdma ? generateMeid() : null) : opts.meid;
  const esn = meid !== null && isValidMeid(meid) ? pseudoEsn(meid) : null;
  const serverUrl = opts.serverUrl ?? "http://127.0.0.1:8080";
  const body = bootstrapBody(opts, imei, serverUrl);
  const problems = bootstrapProblems(body);
  if (problems.length > 0) throw invalid(`the bootstrap DM account is invalid: ${problems[0]}`);

  // One process at a time makes a device in a folder (device-lock.ts); checked again under it.
  await mkdir(abs, { recursive: true });
  await lockDevice(abs);
  try {
    if (await sealedStateExists(abs)) {
      throw new DeviceError("DEVICE_EXISTS", `a device is already manufactured in ${abs}`);
    }
    return await manufactureTsz(abs, opts, { imei, meid, esn, slotCount, body, serverUrl });
  } finally {
    await unlockDevice(abs);
  }
}

async function manufactureTsz(
  abs: string,
  opts: PrepareOptions,
  id: {
    imei: string;
    meid: string | null;
    esn: string | null;
    slotCount: SlotCount;
    body: BootstrapBody;
    serverUrl: string;
  },
): Promise<PreparedDevice> {
  const { imei, meid, esn, slotCount, body, serverUrl } = id;
  const measured = await writeFactoryImage(abs, {
    config: { model: opts.model, brand: opts.oemCa.name, carrier: opts.carrier, serverUrl },
    reported: { imei, meid },
    otaCertificatePem: opts.oemCa.otaCertificatePem,
  });

  let issuer = opts.oemCa;
  if (opts.counterfeit) {
    counterfeitCa ??= createOemCa({ name: "Counterfeit OEM" });
    issuer = await counterfeitCa;
  }
  const tsz = await TszClient.manufacture(
    abs,
    {
      model: opts.model,
      imei,
      meid,
      esn,
      oemId: opts.oemCa.oemId,
      slotCount,
      verdictKeys: opts.verdictKeys,
      authoritative: {
        osImageSha256: measured.osImageSha256,
        otaCertsSha256: measured.otaCertsSha256,
      },
      shippedModes: measured.shippedModes,
    },
    (csrPem) => issueDeviceCertificate(issuer, csrPem, { imei, model: opts.model }),
    opts.pool,
  );
  // A directory whose TSZ was scrapped keeps its normal world, a migration's leftover stage too.
  const device = await Device.create(abs, tsz).catch(async (err: unknown) => {
    await rm(tszDir(abs), { recursive: true, force: true });
    throw err;
  });
  try {
    const record: PreparedRecord = {
      imei,
      meid,
      esn,
      model: opts.model,
      carrier: opts.carrier,
      slotCount,
      oemId: opts.oemCa.oemId,
      counterfeit: opts.counterfeit === true,
      attestationCertificatePem: await tsz.certificatePem(),
      dmAccount: body.dmAccount,
    };
    return new PreparedDevice(device, await device.hpkePublicKey(), record, body);
  } catch (err) {
    await scrapUnfinished(device).catch(() => undefined);
    throw err;
  }
}

/** The test-only path: `slotKey` wrapped here, to the TSZ's key, as the carrier would. */
async function wrapRawSlotKey(
  hpkePublicKey: Uint8Array,
  carrier: string,
  kid: string,
  slotKey: Uint8Array,
): Promise<WrappedKey> {
  const recipient = await importRecipientPublicKey(hpkePublicKey);
  return sealDeviceKey(recipient, `carrier:${carrier}`, kid, slotKey);
}

/**
 * The whole factory line for one device: `prepareDevice`, slot 0's key from the carrier
 * (`wrappedSlotKey`, or a raw test key) deposited in the TSZ, then `complete()`. Any failure
 * after the first phase scraps the unfinished TSZ, so the directory can be manufactured again.
 */
export async function manufactureDevice(
  dir: string,
  opts: ManufactureOptions,
): Promise<{ device: Device; record: ManufactureRecord }> {
  const { wrappedSlotKey, slotKey, kid } = opts;
  if ((wrappedSlotKey === undefined) === (slotKey === undefined)) {
    throw invalid("give exactly one of wrappedSlotKey and slotKey");
  }
  if (slotKey !== undefined) {
    if (!(slotKey instanceof Uint8Array) || slotKey.length !== SLOT_KEY_BYTES) {
      throw invalid(`the slot key must be ${SLOT_KEY_BYTES} bytes`);
    }
    if (typeof kid !== "string" || !KEY_ID.test(kid) || !isSuiteKid(kid)) {
      throw invalid("kid must be 1-64 letters, digits and . _ : - (not starting with a symbol)");
    }
  } else if (typeof wrappedSlotKey !== "function") {
    throw invalid("wrappedSlotKey must be a function of the TSZ's HPKE public key");
  }
  const prepared = await prepareDevice(dir, opts);
  try {
    const pk = prepared.hpkePublicKey;
    const wrapped = wrappedSlotKey
      ? await wrappedSlotKey(pk)
      : await wrapRawSlotKey(pk, opts.carrier, kid as string, slotKey as Uint8Array);
    await prepared.device.depositKey(opts.carrier, wrapped);
    return await prepared.complete();
  } catch (err) {
    await prepared.abandon().catch(() => undefined);
    throw err;
  }
}
