import { type KeyObject, randomBytes, timingSafeEqual } from "node:crypto";
import { resolve } from "node:path";
import { keyCheckValue } from "../../evidence/key-check-value.js";
import {
  deriveRecipientKeyPair,
  openWrappedKey,
  publicJwkFromBytes,
  type RecipientKeyPair,
} from "../../keystore/hpke-recipient.js";
import { crc32 } from "../crc32.js";
import { DeviceError } from "../errors.js";
import { parsePayloadBody, parsePayloadHeader } from "../normal/payload-format.js";
import { SLOT_KEY_BYTES } from "../validate.js";
import type { CryptoKeyPair } from "../webcrypto-types.js";
import {
  attestationCsr,
  certificateDer,
  certificateForKey,
  exportPrivateJwk,
  generateAttestationKey,
  importSigningKey,
} from "./attestation-key.js";
import { checkPayloadKey } from "./checks/payload.js";
import { buildEvidenceClaims, chooseProofSlot, signEvidence } from "./evidence.js";
import {
  type ManufactureSpec,
  parseRequest,
  type TszRequestOf,
  type TszResponse,
  type TszResults,
  type TszStatus,
} from "./messages.js";
import {
  burnFuse,
  deriveSealKey,
  loadSealedState,
  sealedStateExists,
  storeSealedState,
} from "./sealed-store.js";
import { HPKE_SEED_BYTES, type SlotState, type TszState, type VerdictRecord } from "./state.js";
import { checkVerdict, pinKey } from "./verdict.js";
import { readPayloadFile, runVerification } from "./verification.js";

/**
 * The secure world's request handler, run inside a TSZ worker. It keeps every open device's
 * state in this thread's memory only, one record per device (keyed by its resolved directory),
 * each with its own seal key; operations on one device run one at a time, in arrival order.
 */
interface OpenDevice {
  dir: string;
  state: TszState;
  sealKey: Uint8Array;
  signingKey: KeyObject;
  certificateDer: string;
  /** The nonce of the last evidence, which a verdict must answer; in memory only. */
  pendingNonce: string | null;
  /** The HPKE key pair, derived from the sealed seed on first use (not on every open). */
  hpke: Promise<RecipientKeyPair> | null;
  /**
   * A new carrier's approved migration verdict, checked and waiting for that carrier's key
   * (in memory only: a crash forgets it, and the device starts the migration again). It takes
   * effect — toggle key 0, last verdict — in the same sealed commit as the key's deposit.
   */
  pendingMigration: VerdictRecord | null;
  refs: number;
  tail: Promise<unknown>;
}

interface Manufacturing {
  dir: string;
  spec: ManufactureSpec;
  keys: CryptoKeyPair;
}

type Session = { kind: "device"; device: OpenDevice } | { kind: "manufacturing"; m: Manufacturing };

export class TszService {
  readonly #devices = new Map<string, OpenDevice>();
  readonly #opening = new Map<string, Promise<OpenDevice>>();
  readonly #sessions = new Map<string, Session>();
  readonly #manufacturing = new Set<string>();

  /** Handles one untrusted message; never throws. */
  async handle(body: unknown): Promise<TszResponse> {
    try {
      const req = parseRequest(body);
      return { ok: true, result: await this.#dispatch(req) };
    } catch (err) {
      if (err instanceof DeviceError)
        return { ok: false, error: { code: err.code, message: err.message } };
      // Details of unexpected failures stay inside the TSZ: they might quote its data.
      const errno = (err as NodeJS.ErrnoException | undefined)?.code;
      if (process.env.DEBUG) console.error("TSZ internal error:", err);
      return {
        ok: false,
        error: {
          code: "TSZ_INTERNAL",
          message: `internal error in the trusted security zone${typeof errno === "string" ? ` (${errno})` : ""}`,
        },
      };
    }
  }

  /** Open sessions and devices, for tests of the isolation bookkeeping. */
  get counts(): { sessions: number; devices: number } {
    return { sessions: this.#sessions.size, devices: this.#devices.size };
  }

  async #dispatch(req: ReturnType<typeof parseRequest>): Promise<unknown> {
    switch (req.op) {
      case "manufacture":
        return this.#manufacture(req);
      case "installCertificate":
        return this.#installCertificate(req);
      case "open":
        return this.#open(req.dir);
      case "close":
        return this.#close(req.session);
      default: {
        const device = this.#device(req.session);
        return this.#serialised(device, () => this.#deviceOp(device, req));
      }
    }
  }

  async #deviceOp(
    d: OpenDevice,
    req: Exclude<
      ReturnType<typeof parseRequest>,
      { op: "manufacture" | "installCertificate" | "open" | "close" }
    >,
  ): Promise<unknown> {
    switch (req.op) {
      case "verify":
      case "acceptVerdict":
      case "factoryReset":
        if (d.state.phase !== "ready") {
          throw new DeviceError(
            "TSZ_WRONG_PHASE",
            "the device's manufacture is not finished (no payload fused yet)",
          );
        }
        break;
      case "keyCheckValue":
      case "fusePayload":
        if (d.state.phase !== "manufacturing") {
          throw new DeviceError(
            "TSZ_WRONG_PHASE",
            `${req.op} is a step of manufacture, which is finished`,
          );
        }
        break;
    }
    switch (req.op) {
      case "status":
        return statusOf(d.state);
      case "certificate":
        return {
          certificatePem: d.state.attestation.certificatePem,
        } satisfies TszResults["certificate"];
      case "mayProvision":
        // An approved migration verdict waiting for its key: the new carrier's profile comes
        // just before the key in the same DM package, and is staged, not applied, until then.
        return {
          allowed: d.state.toggle === 0 || d.pendingMigration !== null,
        } satisfies TszResults["mayProvision"];
      case "verify":
        return this.#verify(d, req);
      case "acceptVerdict":
        return this.#acceptVerdict(d, req.jws);
      case "factoryReset":
        await this.#commit(d, { ...d.state, toggle: 1, lastVerdict: null });
        d.pendingNonce = null;
        d.pendingMigration = null;
        return { toggleKey: 1 } satisfies TszResults["factoryReset"];
      case "hpkePublicKey": {
        const { publicKey } = await hpkeKeys(d);
        return {
          publicKey: new Uint8Array(publicKey),
          jwk: publicJwkFromBytes(publicKey),
        } satisfies TszResults["hpkePublicKey"];
      }
      case "depositKey":
        return this.#depositKey(d, req);
      case "keyCheckValue":
        return slotKeyCheck(d.state, req.carrier);
      case "fusePayload":
        return this.#fusePayload(d);
    }
  }

  #serialised<T>(d: OpenDevice, op: () => Promise<T>): Promise<T> {
    const run = d.tail.then(op, op);
    d.tail = run.catch(() => undefined);
    return run;
  }

  #device(session: string): OpenDevice {
    const s = this.#sessions.get(session);
    if (!s) throw new DeviceError("TSZ_SESSION_UNKNOWN", "unknown TSZ session");
    if (s.kind !== "device") {
      throw new DeviceError("TSZ_WRONG_PHASE", "the device is still being manufactured");
    }
    return s.device;
  }

  #newSession(s: Session): string {
    const id = randomBytes(18).toString("base64url");
    this.#sessions.set(id, s);
    return id;
  }

  /** Writes the new state sealed, then (only once it is on disk) makes it the current one. */
  async #commit(d: OpenDevice, next: TszState): Promise<void> {
    await storeSealedState(d.dir, d.sealKey, next);
    d.state = next;
  }

  async #manufacture(req: TszRequestOf<"manufacture">): Promise<TszResults["manufacture"]> {
    const dir = resolve(req.dir);
    if (this.#manufacturing.has(dir) || this.#devices.has(dir) || (await sealedStateExists(dir))) {
      throw new DeviceError("DEVICE_EXISTS", `a device is already manufactured in ${dir}`);
    }
    this.#manufacturing.add(dir);
    try {
      const keys = await generateAttestationKey();
      const csrPem = await attestationCsr(keys, req.spec.imei);
      const session = this.#newSession({ kind: "manufacturing", m: { dir, spec: req.spec, keys } });
      return { session, csrPem };
    } catch (err) {
      this.#manufacturing.delete(dir);
      throw err;
    }
  }

  /**
   * Checks the certificate certifies the TSZ's key, makes the HPKE seed, blows the fuse and
   * writes the sealed state, whole, in phase `manufacturing`. Until this returns, nothing of the
   * TSZ is on disk.
   */
  async #installCertificate(req: TszRequestOf<"installCertificate">): Promise<TszStatus> {
    const s = this.#sessions.get(req.session);
    if (!s) throw new DeviceError("TSZ_SESSION_UNKNOWN", "unknown TSZ session");
    if (s.kind !== "manufacturing") {
      throw new DeviceError(
        "TSZ_WRONG_PHASE",
        "the attestation certificate is installed once, at manufacture",
      );
    }
    const { dir, spec, keys } = s.m;
    const der = await certificateForKey(req.certificatePem, keys.publicKey);
    const slots: TszState["slots"] = Array.from({ length: spec.slotCount }, () => null);
    const pinned = await Promise.all(spec.verdictKeys.map((k) => pinKey(k.carrier, k.jwk, k.kid)));
    const state: TszState = {
      version: 2,
      phase: "manufacturing",
      model: spec.model,
      imei: spec.imei,
      meid: spec.meid,
      esn: spec.esn,
      oemId: spec.oemId,
      toggle: 1,
      slots,
      attestation: {
        privateJwk: await exportPrivateJwk(keys.privateKey),
        certificatePem: req.certificatePem,
      },
      hpkeSeed: new Uint8Array(randomBytes(HPKE_SEED_BYTES)),
      pinned,
      // The payload's reference values are fused by `fusePayload`, once slot 0's key is in.
      authoritative: { ...spec.authoritative, payloadCrc32: 0, payloadSize: 0 },
      shippedModes: spec.shippedModes,
      lastVerdict: null,
      manufacturedAt: new Date().toISOString(),
    };
    const sealKey = deriveSealKey(await burnFuse(dir));
    await storeSealedState(dir, sealKey, state);
    const device: OpenDevice = {
      dir,
      state,
      sealKey,
      signingKey: importSigningKey(state.attestation.privateJwk),
      certificateDer: der,
      pendingNonce: null,
      hpke: null,
      pendingMigration: null,
      refs: 1,
      tail: Promise.resolve(),
    };
    this.#devices.set(dir, device);
    this.#manufacturing.delete(dir);
    this.#sessions.set(req.session, { kind: "device", device });
    return statusOf(state);
  }

  async #open(rawDir: string): Promise<TszResults["open"]> {
    const dir = resolve(rawDir);
    let device = this.#devices.get(dir);
    if (!device) {
      let pending = this.#opening.get(dir);
      if (!pending) {
        pending = loadDevice(dir).finally(() => this.#opening.delete(dir));
        this.#opening.set(dir, pending);
      }
      const loaded = await pending;
      device = this.#devices.get(dir) ?? loaded;
      if (!this.#devices.has(dir)) {
        device.refs = 0;
        this.#devices.set(dir, device);
      }
    }
    device.refs++;
    return { session: this.#newSession({ kind: "device", device }) };
  }

  #close(session: string): TszResults["close"] {
    const s = this.#sessions.get(session);
    if (!s) throw new DeviceError("TSZ_SESSION_UNKNOWN", "unknown TSZ session");
    this.#sessions.delete(session);
    if (s.kind === "manufacturing") {
      this.#manufacturing.delete(s.m.dir);
    } else if (--s.device.refs <= 0) {
      // The last handle is gone: forget the device's keys in this thread.
      this.#devices.delete(s.device.dir);
    }
    return { closed: true };
  }

  async #verify(d: OpenDevice, req: TszRequestOf<"verify">): Promise<TszResults["verify"]> {
    const result = await runVerification(d.dir, d.state, req.reported);
    const slot = chooseProofSlot(d.state, req.carrier, result.matchedSlot);
    const claims = buildEvidenceClaims(d.state, result, req.nonce, slot);
    if (req.migrateTo) {
      claims.migrateTo = req.migrateTo;
      claims.hpke = Buffer.from((await hpkeKeys(d)).publicKey).toString("base64url");
    }
    const slotKey = slot >= 0 ? (d.state.slots[slot]?.key ?? null) : null;
    const evidence = await signEvidence(claims, d.signingKey, d.certificateDer, slotKey);
    d.pendingNonce = req.nonce;
    return { evidence, reasons: result.reasons };
  }

  async #acceptVerdict(d: OpenDevice, jws: string): Promise<TszResults["acceptVerdict"]> {
    const { migration, ...record } = await checkVerdict(jws, d.state, d.pendingNonce);
    if (migration) {
      // A migration verdict changes nothing here: a denial leaves the device as it was, and an
      // approval waits for the new carrier's key (#depositKey applies both in one commit).
      d.pendingNonce = null;
      d.pendingMigration = record.verdict === "approved" ? record : null;
      return {
        verdict: record.verdict,
        reasons: record.reasons,
        carrier: record.carrier,
        networkAccess: record.networkAccess,
        via: record.via,
        toggleKey: d.state.toggle,
      };
    }
    const toggle = record.verdict === "approved" ? 0 : 1;
    await this.#commit(d, { ...d.state, toggle, lastVerdict: record });
    d.pendingNonce = null;
    return {
      verdict: record.verdict,
      reasons: record.reasons,
      carrier: record.carrier,
      networkAccess: record.networkAccess,
      via: record.via,
      toggleKey: toggle,
    };
  }

  /**
   * Opens a carrier's HPKE-wrapped key inside the TSZ and puts it in a free slot (DESIGN.md,
   * Migration). Checks, before anything changes:
   * - the blob names owner `carrier:<carrier>` (its `owner` and `kid` are bound by the HPKE
   *   `info`, so a relabelled blob does not open either);
   * - it opens with this TSZ's private key (one addressed to another device does not);
   * - the carrier's key `kid` is not already here: the same key → idempotent, the slot it is in;
   *   another key → `KEY_ID_CONFLICT`;
   * - a free slot exists (`SLOTS_FULL` otherwise). An occupied slot is never overwritten, so no
   *   other carrier's key is ever touched.
   * Then the new state is sealed atomically before it becomes current (#commit).
   */
  async #depositKey(
    d: OpenDevice,
    req: TszRequestOf<"depositKey">,
  ): Promise<TszResults["depositKey"]> {
    const owner = `carrier:${req.carrier}`;
    const { wrapped } = req;
    if (wrapped.owner !== owner) {
      throw new DeviceError(
        "WRAPPED_KEY_INVALID",
        `the wrapped key is for ${wrapped.owner}, not ${owner}; nothing was changed`,
      );
    }
    const { privateKey } = await hpkeKeys(d);
    let key: Uint8Array;
    try {
      key = await openWrappedKey(privateKey, wrapped, { owner, kid: wrapped.kid });
    } catch {
      throw new DeviceError(
        "WRAPPED_KEY_UNWRAP_FAILED",
        `the wrapped key ${wrapped.kid} of ${owner} does not open with this device's key (another device's, relabelled or altered); nothing was changed`,
      );
    }
    try {
      if (key.length !== SLOT_KEY_BYTES) throw new Error("unwrapped key of the wrong size");
      const slots = d.state.slots;
      // The new carrier's approved migration verdict, if one waits for this key: it becomes the
      // last verdict (toggle key 0) in the same commit that deposits the key.
      const pending = d.pendingMigration?.carrier === req.carrier ? d.pendingMigration : null;
      const migrated = pending ? { toggle: 0 as const, lastVerdict: pending } : {};
      const same = slots.findIndex((s) => s?.carrier === req.carrier && s.kid === wrapped.kid);
      if (same >= 0) {
        const held = (slots[same] as SlotState).key;
        if (held.length === key.length && timingSafeEqual(held, key)) {
          // A retried migration whose key landed before a crash: done, not a second slot.
          if (pending) {
            await this.#commit(d, { ...d.state, ...migrated });
            d.pendingMigration = null;
          }
          return { slot: same, carrier: req.carrier, kid: wrapped.kid, alreadyPresent: true };
        }
        throw new DeviceError(
          "KEY_ID_CONFLICT",
          `carrier ${req.carrier} already has another key ${wrapped.kid} in slot ${same}; nothing was changed`,
        );
      }
      const free = slots.indexOf(null);
      if (free < 0) {
        throw new DeviceError(
          "SLOTS_FULL",
          `all ${slots.length} key slots are occupied; the key of ${owner} was not deposited and nothing was changed`,
        );
      }
      const next = slots.slice();
      next[free] = { carrier: req.carrier, kid: wrapped.kid, key: new Uint8Array(key) };
      await this.#commit(d, { ...d.state, slots: next, ...migrated });
      if (pending) d.pendingMigration = null;
      return { slot: free, carrier: req.carrier, kid: wrapped.kid, alreadyPresent: false };
    } finally {
      key.fill(0);
    }
  }

  /**
   * Last step of manufacture: measures the payload the OEM wrote (the TSZ reads it itself, as it
   * does to verify) and fuses its CRC-32 and size as the authoritative values. Refused, with
   * nothing changed, when the payload is unreadable, off-schema, or its key check value matches
   * no slot: such a device could never pass verification.
   */
  async #fusePayload(d: OpenDevice): Promise<TszResults["fusePayload"]> {
    const payload = await readPayloadFile(d.dir);
    const header = payload === null ? null : parsePayloadHeader(payload);
    const fault =
      payload === null || header === null
        ? "it is missing or too large"
        : !header.ok
          ? `its header is invalid (${header.problem})`
          : !parsePayloadBody(payload.subarray(header.header.headerLength)).ok
            ? "its body does not match the schema"
            : checkPayloadKey(payload, d.state.slots).reasons.length > 0
              ? "its key check value matches no deposited key"
              : null;
    if (fault !== null || payload === null) {
      throw new DeviceError("PAYLOAD_UNREADABLE", `the payload cannot be fused: ${fault}`);
    }
    const authoritative = {
      ...d.state.authoritative,
      payloadCrc32: crc32(payload),
      payloadSize: payload.length,
    };
    await this.#commit(d, { ...d.state, phase: "ready", authoritative });
    return statusOf(d.state);
  }
}

/** The device's HPKE key pair, derived once per open device from its sealed seed. */
function hpkeKeys(d: OpenDevice): Promise<RecipientKeyPair> {
  if (!d.hpke) {
    const pending = deriveRecipientKeyPair(d.state.hpkeSeed);
    // A failure is not cached: the next request derives again.
    pending.catch(() => {
      if (d.hpke === pending) d.hpke = null;
    });
    d.hpke = pending;
  }
  return d.hpke;
}

/** The payload's key check value for `carrier`'s (first) slot; the key stays here. */
function slotKeyCheck(state: TszState, carrier: string): TszResults["keyCheckValue"] {
  const slot = state.slots.findIndex((s) => s?.carrier === carrier);
  const s = slot >= 0 ? state.slots[slot] : null;
  if (!s) {
    throw new DeviceError("TSZ_WRONG_PHASE", `no key of carrier ${carrier} has been deposited yet`);
  }
  return { slot, kid: s.kid, kcv: keyCheckValue(s.key, s.kid) };
}

async function loadDevice(dir: string): Promise<OpenDevice> {
  const { state, sealKey } = await loadSealedState(dir);
  return {
    dir,
    state,
    sealKey,
    signingKey: importSigningKey(state.attestation.privateJwk),
    certificateDer: certificateDer(state.attestation.certificatePem),
    pendingNonce: null,
    hpke: null,
    pendingMigration: null,
    refs: 0,
    tail: Promise.resolve(),
  };
}

function statusOf(s: TszState): TszStatus {
  const slots: TszStatus["slots"] = [];
  s.slots.forEach((slot, index) => {
    if (slot) slots.push({ index, carrier: slot.carrier, kid: slot.kid });
  });
  return {
    model: s.model,
    imei: s.imei,
    meid: s.meid,
    esn: s.esn,
    oemId: s.oemId,
    phase: s.phase,
    toggleKey: s.toggle,
    slotCount: s.slots.length,
    slots,
    pinnedCarriers: [...new Set(s.pinned.map((p) => p.carrier))],
    lastVerdict: s.lastVerdict,
    manufacturedAt: s.manufacturedAt,
  };
}
