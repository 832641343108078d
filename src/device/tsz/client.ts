import { resolve } from "node:path";
import type { DeviceReason } from "../../evidence/reasons.js";
import type { WrappedKey } from "../../keystore/hpke-recipient.js";
import { lockDevice, unlockDevice } from "../device-lock.js";
import { DeviceError } from "../errors.js";
import type {
  DepositOutcome,
  HpkePublicKey,
  ManufactureSpec,
  ReportedIdentityMessage,
  SlotKeyCheck,
  TszOp,
  TszRequestOf,
  TszResults,
  TszStatus,
  VerdictOutcome,
} from "./messages.js";
import { defaultTszPool, type TszPool } from "./pool.js";

/**
 * The normal world's handle on one device's TSZ: async methods over the message API. It holds a
 * session id and a worker index, nothing secret; no method returns key material.
 */
export class TszClient {
  readonly dir: string;
  /** The TSZ session this handle speaks for (a capability inside this process, not a secret key). */
  readonly session: string;
  /** The pool worker that holds this device's open state. */
  readonly lane: number;
  readonly #pool: TszPool;
  #closed = false;

  private constructor(dir: string, session: string, lane: number, pool: TszPool) {
    this.dir = dir;
    this.session = session;
    this.lane = lane;
    this.#pool = pool;
  }

  static async open(dir: string, pool: TszPool = defaultTszPool()): Promise<TszClient> {
    const abs = resolve(dir);
    await lockDevice(abs);
    try {
      const lane = pool.laneFor(abs);
      const r = await call(pool, lane, { op: "open", dir: abs });
      return new TszClient(abs, r.session, lane, pool);
    } catch (err) {
      await unlockDevice(abs);
      throw err;
    }
  }

  /**
   * Manufactures the TSZ, first phase: it generates its attestation key and returns a CSR,
   * `issue` (the OEM CA) answers with a certificate, the TSZ checks it, makes its HPKE key and
   * seals its state in phase `manufacturing`. A failure anywhere leaves no sealed state behind.
   * Then: `depositKey` (slot 0's key), `keyCheckValue`, `fusePayload`.
   */
  static async manufacture(
    dir: string,
    spec: ManufactureSpec,
    issue: (csrPem: string) => Promise<string>,
    pool: TszPool = defaultTszPool(),
  ): Promise<TszClient> {
    const abs = resolve(dir);
    await lockDevice(abs);
    const lane = pool.laneFor(abs);
    let session: string | undefined;
    try {
      const made = await call(pool, lane, { op: "manufacture", dir: abs, spec });
      session = made.session;
      const certificatePem = await issue(made.csrPem);
      await call(pool, lane, { op: "installCertificate", session, certificatePem });
    } catch (err) {
      if (session !== undefined) {
        await call(pool, lane, { op: "close", session }).catch(() => undefined);
      }
      await unlockDevice(abs);
      throw err;
    }
    return new TszClient(abs, session, lane, pool);
  }

  #call<Op extends TszOp>(req: TszRequestOf<Op>): Promise<TszResults[Op]> {
    if (this.#closed)
      return Promise.reject(new DeviceError("TSZ_SESSION_UNKNOWN", "this TSZ handle is closed"));
    return call(this.#pool, this.lane, req);
  }

  status(): Promise<TszStatus> {
    return this.#call({ op: "status", session: this.session });
  }

  async certificatePem(): Promise<string> {
    return (await this.#call({ op: "certificate", session: this.session })).certificatePem;
  }

  /** Runs the verification application; `carrier` picks the slot that proves possession. */
  verify(
    nonce: string,
    reported: ReportedIdentityMessage,
    carrier: string | null = null,
    migrateTo: string | null = null,
  ): Promise<{ evidence: string; reasons: DeviceReason[] }> {
    return this.#call({
      op: "verify",
      session: this.session,
      nonce,
      reported,
      carrier,
      ...(migrateTo === null ? {} : { migrateTo }),
    });
  }

  acceptVerdict(jws: string): Promise<VerdictOutcome> {
    return this.#call({ op: "acceptVerdict", session: this.session, jws });
  }

  /** The DM client's question: may the profile be provisioned (toggle key 0)? */
  async mayProvision(): Promise<boolean> {
    return (await this.#call({ op: "mayProvision", session: this.session })).allowed;
  }

  factoryReset(): Promise<{ toggleKey: 1 }> {
    return this.#call({ op: "factoryReset", session: this.session });
  }

  /** The TSZ's HPKE public key, to which a carrier's keystore wraps the keys it deposits. */
  hpkePublicKey(): Promise<HpkePublicKey> {
    return this.#call({ op: "hpkePublicKey", session: this.session });
  }

  /** Hands the TSZ a key wrapped to it for `carrier`; it lands in a free slot, or is refused. */
  depositKey(carrier: string, wrapped: WrappedKey): Promise<DepositOutcome> {
    return this.#call({ op: "depositKey", session: this.session, carrier, wrapped });
  }

  /** Manufacture only: the payload's key check value for `carrier`'s slot, made in the TSZ. */
  keyCheckValue(carrier: string): Promise<SlotKeyCheck> {
    return this.#call({ op: "keyCheckValue", session: this.session, carrier });
  }

  /** Manufacture only: the TSZ measures the payload and fuses its CRC and size (phase `ready`). */
  fusePayload(): Promise<TszStatus> {
    return this.#call({ op: "fusePayload", session: this.session });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await call(this.#pool, this.lane, { op: "close", session: this.session }).catch(
      () => undefined,
    );
    await unlockDevice(this.dir);
  }
}

async function call<Op extends TszOp>(
  pool: TszPool,
  lane: number,
  req: TszRequestOf<Op>,
): Promise<TszResults[Op]> {
  const r = await pool.call(lane, req);
  if (!r.ok) throw new DeviceError(r.error.code, r.error.message);
  return r.result as TszResults[Op];
}
