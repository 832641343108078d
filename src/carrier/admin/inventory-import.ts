import { crashPoint } from "../../fault/crash-point.js";
import type { ImportResult, InventoryInput } from "../../store/index.js";
import { isStoreError } from "../../store/index.js";
import type { CarrierContext } from "../context.js";
import { CarrierError } from "../errors.js";
import { CsvError, parseCsv } from "./csv.js";
import { INVENTORY_FIELDS, type RowProblem, validateRow } from "./inventory-row.js";

/** Rows one import may hold (a carrier's whole inventory, 10^6 devices, in one file). */
export const MAX_IMPORT_ROWS = 2_000_000;
/** Problems listed in an error; the count says how many there were in all. */
const MAX_LISTED = 50;

export interface RowError extends RowProblem {
  /** 1-based row number in the import (JSON: array position; CSV: record after the header). */
  row: number;
  /** CSV: the 1-based line the record starts on. */
  line?: number;
}

interface Numbered {
  raw: unknown;
  row: number;
  line?: number;
}

function fail(errors: RowError[], total: number): never {
  const first = errors[0]!;
  const where = first.line !== undefined ? `line ${first.line}` : `row ${first.row}`;
  throw new CarrierError(
    "INVENTORY_INVALID",
    `${total} problem(s) in the import, the first at ${where}: ${first.field} ${first.problem}; nothing was imported`,
    { rows: errors.slice(0, MAX_LISTED), problems: total },
  );
}

/** JSON: an array of rows, or `{ "devices": [...] }`. */
export function rowsFromJson(body: unknown): Numbered[] {
  const list = Array.isArray(body)
    ? body
    : typeof body === "object" &&
        body !== null &&
        Array.isArray((body as { devices?: unknown }).devices)
      ? (body as { devices: unknown[] }).devices
      : null;
  if (!list) {
    throw new CarrierError("INVALID_REQUEST", 'send an array of devices or {"devices": [...]}');
  }
  if (list.length > MAX_IMPORT_ROWS) {
    throw new CarrierError("INVALID_REQUEST", `at most ${MAX_IMPORT_ROWS} rows per import`);
  }
  return list.map((raw, i) => ({ raw, row: i + 1 }));
}

/** CSV: a header line naming the columns (INVENTORY_FIELDS), then one device per record. */
export function rowsFromCsv(text: string): Numbered[] {
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text, { maxRecords: MAX_IMPORT_ROWS + 1, maxField: 8192 });
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    fail([{ row: 0, line: err.line, field: "row", problem: err.message }], 1);
  }
  const header = records[0];
  if (!header) throw new CarrierError("INVALID_REQUEST", "the CSV has no header line");
  const columns = header.fields.map((f) => f.trim());
  const bad = columns.find((c) => !(INVENTORY_FIELDS as readonly string[]).includes(c));
  if (bad !== undefined || new Set(columns).size !== columns.length) {
    fail(
      [
        {
          row: 0,
          line: header.line,
          field: "row",
          problem:
            bad !== undefined
              ? `unknown column ${JSON.stringify(bad.slice(0, 40))}; columns are ${INVENTORY_FIELDS.join(",")}`
              : "a column repeats",
        },
      ],
      1,
    );
  }
  return records.slice(1).map((rec, i) => {
    if (rec.fields.length !== columns.length) {
      return { raw: { __columns: rec.fields.length }, row: i + 1, line: rec.line };
    }
    const o: Record<string, string> = {};
    columns.forEach((c, k) => {
      o[c] = rec.fields[k]!;
    });
    return { raw: o, row: i + 1, line: rec.line };
  });
}

/**
 * Validates every row (all problems, not just the first), then imports all rows in one
 * transaction with the audit entry: a bad row anywhere means nothing is imported.
 */
export async function importInventory(
  ctx: CarrierContext,
  rows: Numbered[],
  opts: { mode: "insert" | "upsert"; format: "json" | "csv" },
): Promise<ImportResult> {
  const inputs: InventoryInput[] = [];
  const errors: RowError[] = [];
  let total = 0;
  for (const r of rows) {
    const cols = (r.raw as { __columns?: number }).__columns;
    const v =
      cols !== undefined
        ? [
            {
              field: "row" as const,
              problem: `has ${cols} fields, the header has a different count`,
            },
          ]
        : validateRow(r.raw);
    if (Array.isArray(v)) {
      total += v.length;
      for (const p of v) {
        if (errors.length < MAX_LISTED) {
          errors.push({ row: r.row, ...(r.line !== undefined ? { line: r.line } : {}), ...p });
        }
      }
    } else inputs.push(v);
  }
  if (errors.length > 0) fail(errors, total);
  const now = ctx.now();
  try {
    const imported = await ctx.part.transaction(async (tx) => {
      const result = await tx.inventory.import(inputs, { mode: opts.mode, now });
      await tx.audit.append(
        {
          actor: ctx.owner,
          action: "inventory-import",
          details: { format: opts.format, mode: opts.mode, rows: inputs.length, ...result },
        },
        now,
      );
      return result;
    });
    // A factory line's registration continues at the platform after this (stack/factory.ts).
    crashPoint("carrier.inventory.imported");
    return imported;
  } catch (err) {
    if (isStoreError(err, "ROW_INVALID") && err.index !== undefined) {
      const r = rows[err.index]!;
      fail(
        [
          {
            row: r.row,
            ...(r.line !== undefined ? { line: r.line } : {}),
            field: (err.field as RowError["field"] | undefined) ?? "imei",
            problem: err.message.replace(/^row [0-9]+: (imei|meid) /, ""),
          },
        ],
        1,
      );
    }
    throw err;
  }
}
