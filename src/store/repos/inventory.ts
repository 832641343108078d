import type { BulkInventoryRow } from "../backend.js";
import { inTransaction, transaction } from "../context.js";
import { StoreError } from "../errors.js";
import { prepared } from "../prepared.js";
import type { InventoryTable } from "../schema.js";
import type {
  ImportOptions,
  ImportResult,
  InventoryInput,
  InventoryRecord,
  InventoryRepo,
  InventoryStatus,
  Page,
} from "../types.js";
import { id, limitOf, oneOf, optDate, optId, optText, text } from "../validate.js";
import { num, Repo } from "./base.js";

const BY_IMEI = prepared(2, (db, part: string, imei: string) =>
  db.selectFrom("inventory").selectAll().where("part", "=", part).where("imei", "=", imei),
);

export const INVENTORY_STATUSES: readonly InventoryStatus[] = ["active", "blocked", "terminated"];

function toRecord(r: InventoryTable): InventoryRecord {
  return {
    part: r.part,
    imei: r.imei,
    meid: r.meid,
    esn: r.esn,
    model: r.model,
    kid: r.kid,
    attestationKey: r.attestation_key,
    attestationThumbprint: r.attestation_thumbprint,
    contractEnd: r.contract_end,
    userGroup: r.user_group,
    enterprise: r.enterprise,
    status: r.status as InventoryStatus,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Validates one input row; `index` turns failures into `ROW_INVALID` for that row. */
function toRow(part: string, input: unknown, now: number, index?: number): BulkInventoryRow {
  if (typeof input !== "object" || input === null) {
    throw new StoreError(
      index === undefined ? "ARGUMENT_INVALID" : "ROW_INVALID",
      index === undefined ? "row must be an object" : `row ${index}: must be an object`,
      index === undefined ? {} : { index },
    );
  }
  const r = input as InventoryInput;
  return {
    part,
    imei: id(r.imei, "imei", 32, index),
    meid: optId(r.meid, "meid", 32, index),
    esn: optId(r.esn, "esn", 32, index),
    model: text(r.model, "model", 128, index),
    kid: id(r.kid, "kid", 128, index),
    attestation_key: optText(r.attestationKey, "attestationKey", 8192, index, true),
    attestation_thumbprint: optId(r.attestationThumbprint, "attestationThumbprint", 256, index),
    contract_end: optDate(r.contractEnd, "contractEnd", index),
    user_group: optText(r.userGroup, "userGroup", 128, index),
    enterprise: optText(r.enterprise, "enterprise", 128, index),
    status: r.status === undefined ? null : oneOf(r.status, "status", INVENTORY_STATUSES, index),
    created_at: now,
    updated_at: now,
  };
}

function repeated(index: number, field: "imei" | "meid", first: number): StoreError {
  return new StoreError("ROW_INVALID", `row ${index}: ${field} repeats row ${first}`, {
    index,
    field,
  });
}

export class Inventory extends Repo implements InventoryRepo {
  async import(rows: readonly InventoryInput[], opts: ImportOptions = {}): Promise<ImportResult> {
    if (!Array.isArray(rows)) {
      throw new StoreError("ARGUMENT_INVALID", "rows must be an array", { field: "rows" });
    }
    const mode = oneOf(opts.mode ?? "insert", "mode", ["insert", "upsert"] as const);
    const now = this.time(opts.now);
    const n = rows.length;
    // Pass 1: validate every row, before anything touches the database.
    const imeis = new Array<string>(n);
    const meids = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const r = toRow(this.part, rows[i], now, i);
      imeis[i] = r.imei;
      if (r.meid !== null) {
        const first = meids.get(r.meid);
        if (first !== undefined) throw repeated(i, "meid", first);
        meids.set(r.meid, i);
      }
    }
    meids.clear();
    if (n === 0) return { inserted: 0, updated: 0 };
    // Write in IMEI order: index pages then fill one after another instead of all at random
    // (on SQLite about twice as fast for 10^6 rows), and repeats sit side by side.
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((x, y) => {
      const a = imeis[x] as string;
      const b = imeis[y] as string;
      return a < b ? -1 : a > b ? 1 : x - y;
    });
    let repeat: [number, number] | undefined;
    for (let j = 1; j < n; j++) {
      const [prev, cur] = [order[j - 1] as number, order[j] as number];
      if (imeis[prev] === imeis[cur] && (repeat === undefined || cur < repeat[0])) {
        repeat = [cur, prev];
      }
    }
    if (repeat) throw repeated(repeat[0], "imei", repeat[1]);
    // Pass 2: write, converting row by row so a 10^6-row import is not held twice. Always
    // its own (sub)transaction: a failure leaves nothing, even inside a caller's transaction.
    try {
      return await transaction(this.ctx, (c) =>
        c.backend.bulkInventory(
          c.exec,
          n,
          (j) => toRow(this.part, rows[order[j] as number], now),
          mode,
        ),
      );
    } catch (err) {
      // The backend counts rows in write order; name the row as the caller numbered it.
      if (err instanceof StoreError && err.code === "ROW_INVALID" && err.index !== undefined) {
        const i = order[err.index] as number;
        throw new StoreError(
          "ROW_INVALID",
          `row ${i}: ${err.field ?? "imei"} is already in the inventory under another device`,
          { index: i, ...(err.field === undefined ? {} : { field: err.field }), cause: err },
        );
      }
      throw err;
    }
  }

  async put(row: InventoryInput, now?: number): Promise<InventoryRecord> {
    const t = this.time(now);
    const r = toRow(this.part, row, t);
    return inTransaction(this.ctx, async (c) => {
      await c.backend.bulkInventory(c.exec, 1, () => r, "upsert");
      const got = await c.exec
        .selectFrom("inventory")
        .selectAll()
        .where("part", "=", this.part)
        .where("imei", "=", r.imei)
        .executeTakeFirstOrThrow();
      return toRecord(got);
    }).catch((err: unknown) => {
      if (err instanceof StoreError && err.code === "ROW_INVALID") {
        throw new StoreError(
          "ALREADY_EXISTS",
          "meid is already in the inventory under another device",
          {
            field: "meid",
            cause: err,
          },
        );
      }
      throw err;
    });
  }

  async get(imei: string): Promise<InventoryRecord | null> {
    const r = await BY_IMEI.first(this.ctx, this.part, id(imei, "imei", 32));
    return r ? toRecord(r) : null;
  }

  async findByMeid(meid: string): Promise<InventoryRecord | null> {
    const r = await this.db
      .selectFrom("inventory")
      .selectAll()
      .where("part", "=", this.part)
      .where("meid", "=", id(meid, "meid", 32))
      .executeTakeFirst();
    return r ? toRecord(r) : null;
  }

  async findByEsn(esn: string): Promise<InventoryRecord[]> {
    const rows = await this.db
      .selectFrom("inventory")
      .selectAll()
      .where("part", "=", this.part)
      .where("esn", "=", id(esn, "esn", 32))
      .orderBy("imei")
      .limit(1000)
      .execute();
    return rows.map(toRecord);
  }

  async setStatus(
    imei: string,
    status: InventoryStatus,
    now?: number,
  ): Promise<InventoryRecord | null> {
    const r = await this.db
      .updateTable("inventory")
      .set({ status: oneOf(status, "status", INVENTORY_STATUSES), updated_at: this.time(now) })
      .where("part", "=", this.part)
      .where("imei", "=", id(imei, "imei", 32))
      .returningAll()
      .executeTakeFirst();
    return r ? toRecord(r) : null;
  }

  async remove(imei: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom("inventory")
      .where("part", "=", this.part)
      .where("imei", "=", id(imei, "imei", 32))
      .executeTakeFirst();
    return num(r.numDeletedRows) > 0;
  }

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom("inventory")
      .select((eb) => eb.fn.countAll().as("n"))
      .where("part", "=", this.part)
      .executeTakeFirstOrThrow();
    return num(r.n);
  }

  async list(page: Page = {}): Promise<InventoryRecord[]> {
    let q = this.db.selectFrom("inventory").selectAll().where("part", "=", this.part);
    if (page.after !== undefined) q = q.where("imei", ">", id(page.after, "after", 32));
    const rows = await q.orderBy("imei").limit(limitOf(page.limit)).execute();
    return rows.map(toRecord);
  }
}
