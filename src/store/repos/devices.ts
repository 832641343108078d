import { canonicalJson, parseJson } from "../canonical.js";
import { StoreError } from "../errors.js";
import { argsOf, type PreparedQuery, prepared, rowOf } from "../prepared.js";
import type { DevicesTable } from "../schema.js";
import type {
  DeviceInput,
  DevicePatch,
  DeviceRecord,
  DeviceState,
  DeviceStatus,
  DevicesRepo,
  Page,
} from "../types.js";
import { count, id, limitOf, oneOf, optId } from "../validate.js";
import { num, Repo } from "./base.js";

export const DEVICE_STATES: readonly DeviceState[] = [
  "pending",
  "approved",
  "denied",
  "provisioned",
  "terminated",
];

const MAX_PROFILE = 256 * 1024;

const GET = prepared(2, (db, part: string, imei: string) =>
  db.selectFrom("devices").selectAll().where("part", "=", part).where("imei", "=", imei),
);

/** Every column but the profile. */
const STATUS_COLUMNS = [
  "part",
  "imei",
  "state",
  "attestation_thumbprint",
  "dm_credentials_ref",
  "verdict_id",
  "version",
  "created_at",
  "updated_at",
] as const satisfies readonly (keyof DevicesTable)[];

const STATUS = prepared(2, (db, part: string, imei: string) =>
  db.selectFrom("devices").select(STATUS_COLUMNS).where("part", "=", part).where("imei", "=", imei),
);

/** Every column, in the order CREATE binds them. */
const COLUMNS = [...STATUS_COLUMNS, "profile"] as const satisfies readonly (keyof DevicesTable)[];

const CREATE = prepared(COLUMNS.length, (db, ...v: unknown[]) =>
  db
    .insertInto("devices")
    .values(rowOf<DevicesTable>(COLUMNS, v))
    .onConflict((oc) => oc.columns(["part", "imei"]).doNothing())
    .returning(STATUS_COLUMNS),
);

type PatchColumn = keyof ReturnType<typeof patchColumns> & string;

/** One prepared update per set of patched columns (a handful occur), with or without a version. */
const UPDATES = new Map<string, PreparedQuery<unknown[], Omit<DevicesTable, "profile">>>();

function updateFor(cols: readonly PatchColumn[], versioned: boolean) {
  const key = `${cols.join(",")}${versioned ? "@v" : ""}`;
  let q = UPDATES.get(key);
  if (q === undefined) {
    const n = cols.length;
    q = prepared(n + 3 + (versioned ? 1 : 0), (db, ...v: unknown[]) => {
      const set = rowOf<Partial<DevicesTable>>(cols, v);
      const u = db
        .updateTable("devices")
        .set((eb) => ({ ...set, version: eb("version", "+", 1), updated_at: v[n] as number }))
        .where("part", "=", v[n + 1] as string)
        .where("imei", "=", v[n + 2] as string);
      return (versioned ? u.where("version", "=", v[n + 3] as number) : u).returning(
        STATUS_COLUMNS,
      );
    });
    UPDATES.set(key, q);
  }
  return q;
}

function toStatus(r: Omit<DevicesTable, "profile">): DeviceStatus {
  return {
    part: r.part,
    imei: r.imei,
    state: r.state as DeviceState,
    attestationThumbprint: r.attestation_thumbprint,
    dmCredentialsRef: r.dm_credentials_ref,
    verdictId: r.verdict_id,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toRecord(r: DevicesTable): DeviceRecord {
  return { ...toStatus(r), profile: r.profile === null ? null : parseJson(r.profile) };
}

function profileText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const s = canonicalJson(value, "profile");
  if (s.length > MAX_PROFILE) {
    throw new StoreError("ARGUMENT_INVALID", `profile exceeds ${MAX_PROFILE} bytes`, {
      field: "profile",
    });
  }
  return s;
}

/** The columns a patch changes; absent fields are left alone. */
function patchColumns(p: DevicePatch): Partial<DevicesTable> {
  const out: Partial<DevicesTable> = {};
  if (p.state !== undefined) out.state = oneOf(p.state, "state", DEVICE_STATES);
  if (p.attestationThumbprint !== undefined) {
    out.attestation_thumbprint = optId(p.attestationThumbprint, "attestationThumbprint", 256);
  }
  if (p.dmCredentialsRef !== undefined) {
    out.dm_credentials_ref = optId(p.dmCredentialsRef, "dmCredentialsRef", 256);
  }
  if (p.profile !== undefined) out.profile = profileText(p.profile);
  if (p.verdictId !== undefined) out.verdict_id = optId(p.verdictId, "verdictId", 128);
  return out;
}

export class Devices extends Repo implements DevicesRepo {
  async get(imei: string): Promise<DeviceRecord | null> {
    const r = await GET.first(this.ctx, this.part, id(imei, "imei", 32));
    return r ? toRecord(r) : null;
  }

  async status(imei: string): Promise<DeviceStatus | null> {
    const r = await STATUS.first(this.ctx, this.part, id(imei, "imei", 32));
    return r ? toStatus(r) : null;
  }

  async create(input: DeviceInput, now?: number): Promise<DeviceStatus> {
    const t = this.time(now);
    const row: DevicesTable = {
      part: this.part,
      imei: id(input.imei, "imei", 32),
      state: oneOf(input.state, "state", DEVICE_STATES),
      attestation_thumbprint: optId(input.attestationThumbprint, "attestationThumbprint", 256),
      dm_credentials_ref: optId(input.dmCredentialsRef, "dmCredentialsRef", 256),
      profile: profileText(input.profile),
      verdict_id: optId(input.verdictId, "verdictId", 128),
      version: 1,
      created_at: t,
      updated_at: t,
    };
    const r = await CREATE.first(this.ctx, ...argsOf(row, COLUMNS));
    if (!r) {
      throw new StoreError("ALREADY_EXISTS", "the device already has an activation state", {
        field: "imei",
      });
    }
    return toStatus(r);
  }

  async update(
    imei: string,
    patch: DevicePatch,
    opts: { expectedVersion?: number; now?: number } = {},
  ): Promise<DeviceStatus> {
    const key = id(imei, "imei", 32);
    const cols = patchColumns(patch);
    const expected =
      opts.expectedVersion === undefined
        ? undefined
        : count(opts.expectedVersion, "expectedVersion");
    const names = Object.keys(cols) as PatchColumn[];
    const args = [...argsOf(cols, names), this.time(opts.now), this.part, key];
    if (expected !== undefined) args.push(expected);
    const r = await updateFor(names, expected !== undefined).first(this.ctx, ...args);
    if (r) return toStatus(r);
    const current = await this.status(key);
    if (!current) throw new StoreError("NOT_FOUND", "the device has no activation state");
    throw new StoreError(
      "VERSION_CONFLICT",
      `the device's state moved on (version ${current.version}, expected ${expected})`,
    );
  }

  async remove(imei: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom("devices")
      .where("part", "=", this.part)
      .where("imei", "=", id(imei, "imei", 32))
      .executeTakeFirst();
    return num(r.numDeletedRows) > 0;
  }

  async count(state?: DeviceState): Promise<number> {
    let q = this.db
      .selectFrom("devices")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("part", "=", this.part);
    if (state !== undefined) q = q.where("state", "=", oneOf(state, "state", DEVICE_STATES));
    return num((await q.executeTakeFirstOrThrow()).n);
  }

  async list(page: Page & { state?: DeviceState } = {}): Promise<DeviceRecord[]> {
    let q = this.db.selectFrom("devices").selectAll().where("part", "=", this.part);
    if (page.state !== undefined) {
      q = q.where("state", "=", oneOf(page.state, "state", DEVICE_STATES));
    }
    if (page.after !== undefined) q = q.where("imei", ">", id(page.after, "after", 32));
    const rows = await q.orderBy("imei").limit(limitOf(page.limit)).execute();
    return rows.map(toRecord);
  }
}
