/**
 * The OEM's factory line against a running stack (DESIGN.md, Manufacture): the device's
 * certificate from the stack's OEM CA, slot 0's key made in the carrier's keystore and handed
 * over only HPKE-wrapped to the device TSZ, every carrier's verdict key pinned (and the
 * platform's key for each carrier), and the record (with the attestation certificate) inserted
 * in the carrier's inventory. When the stack runs the platform and holds the carrier's custody
 * token, the carrier's keystore also wraps the new key to the platform, and the record and that
 * blob are deposited in the carrier's custody there; `enterprise` then enrols the device at that
 * MDAS. Shared by `device manufacture`, `up --demo` and `fleet`. A registration cut short (a
 * server killed or refusing) is finished by running the same command again (factory-pending.ts).
 */
import {
  type Device,
  manufactureDevice,
  openDevice,
  type SlotCount,
  type TszPool,
} from "../../device/index.js";
import {
  DEVICE_MODELS,
  findModel,
  generateImei,
  isValidMeid,
  pseudoEsn,
} from "../../identity/index.js";
import type { WrappedKey } from "../../keystore/index.js";
import { CliError, ExitCode } from "../exit.js";
import type { StackClient } from "./client.js";
import {
  type FactoryRecord,
  factoryRecord,
  PENDING_FILE,
  type PendingRegistration,
  readPending,
  removePending,
  writePending,
} from "./factory-pending.js";

export interface StackManufactureOptions {
  carrier: string;
  model: string;
  imei?: string;
  meid?: string | null;
  userGroup?: string | null;
  /** Enrols the device at this enterprise (with `userGroup`, `user`) once registered. */
  enterprise?: string | null;
  user?: string | null;
  slots?: SlotCount;
  contractEnd?: string | null;
  counterfeit?: boolean;
  /** false: a grey-market device (with the IMEI of a registered one: a clone). */
  register: boolean;
  pool?: TszPool;
  /**
   * IMEIs this process has chosen and may not have registered yet: concurrent devices of one
   * fleet must not draw the same IMEI between lookup and registration.
   */
  taken?: Set<string>;
}

export interface StackDevice {
  device: Device;
  record: FactoryRecord;
  registered: boolean;
  /** This run finished a registration an earlier run began (factory-pending.ts). */
  resumed?: boolean;
  /** Deposited in the carrier's custody at the platform. */
  deposited?: boolean;
  /** The enterprise it was enrolled at. */
  enrolledAt?: string;
}

/** How often a random IMEI may turn out taken before we give up on the model's TACs. */
const IMEI_DRAWS = 32;

async function registeredAnywhere(stack: StackClient, imei: string): Promise<string | null> {
  const hits = await Promise.all(
    stack.carrierIds().map(async (id) => ((await stack.carrier(id).lookup(imei)) ? id : null)),
  );
  return hits.find((h) => h !== null) ?? null;
}

/** A valid IMEI for the model that no carrier of the stack has and this process did not draw. */
async function unusedImei(stack: StackClient, model: string, taken: Set<string>): Promise<string> {
  if (!findModel(model)) {
    throw new CliError(
      `unknown model "${model}": give --imei, or one of ${DEVICE_MODELS.map((m) => m.name).join(", ")}`,
      ExitCode.USAGE,
    );
  }
  for (let i = 0; i < IMEI_DRAWS; i++) {
    const imei = generateImei(model);
    if (taken.has(imei)) continue;
    taken.add(imei);
    if ((await registeredAnywhere(stack, imei)) === null) return imei;
  }
  throw new CliError(`no unused IMEI found for ${model} after ${IMEI_DRAWS} draws`);
}

export async function manufactureWithStack(
  stack: StackClient,
  dir: string,
  opts: StackManufactureOptions,
): Promise<StackDevice> {
  if (opts.register) {
    const pending = await readPending(dir);
    if (pending !== null) return resume(stack, dir, pending, opts);
  }
  const admin = stack.carrier(opts.carrier);
  const platform = stack.platform();
  const custodyToken = platform ? stack.platformToken(`carrier:${opts.carrier}`) : null;
  const [oemCa, verdictKeys, transport] = await Promise.all([
    stack.oemCa(),
    stack.verdictKeys(),
    platform && custodyToken && opts.register ? platform.transportKey() : undefined,
  ]);
  let imei = opts.imei;
  if (imei === undefined) {
    imei = await unusedImei(stack, opts.model, opts.taken ?? new Set());
  } else if (opts.register && (await admin.lookup(imei)) !== null) {
    throw new CliError(
      `IMEI ${imei} is already in carrier ${opts.carrier}'s inventory; a second device with it is a clone: add --no-register`,
    );
  }
  let custodyWrapped: WrappedKey | null = null;
  const { device, record } = await manufactureDevice(dir, {
    model: opts.model,
    imei,
    ...(opts.meid === undefined ? {} : { meid: opts.meid }),
    carrier: opts.carrier,
    ...(opts.slots === undefined ? {} : { slots: opts.slots }),
    oemCa,
    counterfeit: opts.counterfeit === true,
    verdictKeys,
    serverUrl: stack.baseUrl,
    wrappedSlotKey: async (pk) => {
      const r = await admin.slotKey(pk, transport);
      custodyWrapped = r.custodyWrapped ?? null;
      return r.wrapped;
    },
    ...(opts.pool === undefined ? {} : { pool: opts.pool }),
  });
  const made = factoryRecord(record);
  if (!opts.register) return { device, record: made, registered: false };
  const pending: PendingRegistration = {
    record: made,
    custodyWrapped,
    plan: {
      contractEnd: opts.contractEnd ?? null,
      userGroup: opts.userGroup ?? null,
      enterprise: opts.enterprise ?? null,
      user: opts.user ?? null,
    },
  };
  try {
    await writePending(dir, pending);
  } catch (err) {
    await device.close();
    throw err;
  }
  return register(stack, device, pending, opts, false);
}

/** Running the command again on a device whose registration did not finish: what is left. */
async function resume(
  stack: StackClient,
  dir: string,
  pending: PendingRegistration,
  opts: StackManufactureOptions,
): Promise<StackDevice> {
  const { record } = pending;
  if (opts.carrier !== record.carrier || (opts.imei !== undefined && opts.imei !== record.imei)) {
    throw new CliError(
      `${dir} holds device ${record.imei} of carrier ${record.carrier}, whose registration is unfinished: run the command again with --carrier ${record.carrier}`,
      ExitCode.USAGE,
    );
  }
  const device = await openDevice(dir, opts.pool === undefined ? {} : { pool: opts.pool });
  let own: FactoryRecord;
  try {
    own = await ownRecord(device, pending);
  } catch (err) {
    await device.close();
    throw err;
  }
  // Each choice the rerun makes wins; one it leaves out is the first run's, not dropped.
  const { plan } = pending;
  return register(
    stack,
    device,
    { ...pending, record: own },
    {
      ...opts,
      contractEnd: opts.contractEnd ?? plan.contractEnd,
      userGroup: opts.userGroup ?? plan.userGroup,
      enterprise: opts.enterprise ?? plan.enterprise,
      user: opts.user ?? plan.user,
    },
    true,
  );
}

/**
 * The record a resume registers: identity, key and certificate read from the device itself,
 * so that a note edited in the folder cannot put another certificate or key on the servers'
 * records; from the note only what the device cannot say (the custody blob, checked to be for
 * this key and carrier, and the factory's facts for the summary).
 */
async function ownRecord(device: Device, pending: PendingRegistration): Promise<FactoryRecord> {
  const { record, custodyWrapped } = pending;
  const s = await device.status();
  const kid = s.slots[0]?.kid;
  const owner = `carrier:${record.carrier}`;
  if (
    s.imei !== record.imei ||
    kid !== record.kid ||
    s.slots[0]?.carrier !== record.carrier ||
    (custodyWrapped !== null && (custodyWrapped.kid !== kid || custodyWrapped.owner !== owner))
  ) {
    throw new CliError(
      `${device.dir}/${PENDING_FILE} does not describe the device in ${device.dir}`,
    );
  }
  return {
    ...record,
    imei: s.imei,
    meid: s.meid,
    esn: s.meid !== null && isValidMeid(s.meid) ? pseudoEsn(s.meid) : null,
    model: s.model,
    kid,
    attestationCertificatePem: await device.attestationCertificatePem(),
  };
}

/**
 * The registration's steps, each safe to repeat: the inventory row (on a resume, a row that
 * already names this device's key is this device's, another key is a clone), the custody
 * deposit (the platform makes it idempotent), the enrolment (a PUT). The note goes once all
 * are done; on a failure it stays, and the message says how to finish.
 */
async function register(
  stack: StackClient,
  device: Device,
  { record, custodyWrapped }: PendingRegistration,
  opts: StackManufactureOptions,
  resumed: boolean,
): Promise<StackDevice> {
  const admin = stack.carrier(record.carrier);
  const enterprise = opts.enterprise ? stack.enterprise(opts.enterprise) : null;
  const platform = stack.platform();
  const custodyToken = platform ? stack.platformToken(`carrier:${record.carrier}`) : null;
  let deposited = false;
  try {
    const row = resumed ? await admin.lookup(record.imei) : null;
    if (row !== null && row.kid !== record.kid) {
      throw new CliError(
        `IMEI ${record.imei} is in carrier ${record.carrier}'s inventory with another key: this device would be a clone`,
      );
    }
    if (row === null) {
      await admin.register([
        {
          imei: record.imei,
          meid: record.meid,
          esn: record.esn,
          model: record.model,
          kid: record.kid,
          attestationKey: record.attestationCertificatePem,
          contractEnd: opts.contractEnd ?? null,
          userGroup: opts.userGroup ?? null,
          enterprise: opts.enterprise ?? null,
        },
      ]);
    }
    if (custodyWrapped !== null) {
      if (platform === null || custodyToken === null) {
        // The note holds the only copy of the platform's blob: kept until it can be deposited.
        throw new CliError(
          `the stack has no platform token of carrier ${record.carrier} to deposit its custody copy with`,
        );
      }
      await platform.deposit(
        record.carrier,
        record.imei,
        {
          meid: record.meid,
          esn: record.esn,
          model: record.model,
          kid: record.kid,
          attestationKey: record.attestationCertificatePem,
          contractEnd: opts.contractEnd ?? null,
          wrappedKey: custodyWrapped,
        },
        custodyToken,
      );
      deposited = true;
    }
    await enterprise?.enroll(record.imei, {
      userGroup: opts.userGroup ?? null,
      user: opts.user ?? null,
    });
    await removePending(device.dir);
  } catch (err) {
    await device.close();
    if (err instanceof CliError) {
      throw new CliError(
        `the device was made in ${device.dir} but not (fully) registered: ${err.message}; run the same command again to finish`,
      );
    }
    throw err;
  }
  return {
    device,
    record,
    registered: true,
    deposited,
    resumed,
    ...(enterprise ? { enrolledAt: enterprise.id } : {}),
  };
}
