import { isLuhnValid } from "../../identity/index.js";
import type { EnrolmentInput, EnrolmentRecord } from "../../store/index.js";
import type { EnterpriseContext } from "../context.js";
import { EnterpriseError } from "../errors.js";
import { CsvError, parseCsv } from "./csv.js";

/** Columns of an enrolment list (CSV header, JSON keys). */
export const ENROLMENT_FIELDS = ["imei", "user", "userGroup"] as const;
export const MAX_ENROLMENT_ROWS = 1_000_000;
const MAX_LISTED = 50;

interface Numbered {
  raw: unknown;
  row: number;
  line?: number;
}
interface RowError {
  row: number;
  line?: number;
  field: string;
  problem: string;
}

/** JSON: an array of rows, or `{ "devices": [...] }` (as the carrier inventory takes). */
export function rowsFromJson(body: unknown): Numbered[] {
  const list = Array.isArray(body) ? body : (body as { devices?: unknown } | null)?.devices;
  if (!Array.isArray(list)) {
    throw new EnterpriseError("INVALID_REQUEST", 'send an array of devices or {"devices": [...]}');
  }
  if (list.length > MAX_ENROLMENT_ROWS) {
    throw new EnterpriseError("INVALID_REQUEST", `at most ${MAX_ENROLMENT_ROWS} rows per import`);
  }
  return list.map((raw, i) => ({ raw, row: i + 1 }));
}

/** CSV: a header naming the columns (any order, `imei` required), then one device per line. */
export function rowsFromCsv(text: string): Numbered[] {
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text, { maxRecords: MAX_ENROLMENT_ROWS + 1, maxField: 1024 });
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    throw new EnterpriseError(
      "ENROLMENT_INVALID",
      `CSV line ${err.line}: ${err.message}; nothing was imported`,
      {
        rows: [{ row: 0, line: err.line, field: "csv", problem: err.message }],
        problems: 1,
      },
    );
  }
  const [header, ...body] = records;
  const cols = header?.fields.map((f) => f.trim()) ?? [];
  const unknown = cols.find((c) => !(ENROLMENT_FIELDS as readonly string[]).includes(c));
  if (!header || !cols.includes("imei") || unknown !== undefined) {
    throw new EnterpriseError(
      "ENROLMENT_INVALID",
      `the CSV header must name columns among ${ENROLMENT_FIELDS.join(", ")}, imei included`,
      {
        rows: [{ row: 0, line: 1, field: unknown ?? "imei", problem: "is not a known column" }],
        problems: 1,
      },
    );
  }
  return body.map((r, i) => ({
    raw: Object.fromEntries(cols.map((c, k) => [c, r.fields[k] ?? ""])),
    row: i + 1,
    line: r.line,
  }));
}

/** Control characters have no place in a name or a group (and would break CSV round trips). */
function hasControl(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function text(v: unknown, max: number): string | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || v.length > max || hasControl(v)) return undefined;
  const t = v.trim();
  return t === "" ? null : t;
}

/** One row's problems, or the row: IMEI 15 digits with a good Luhn digit, a known user group. */
export function validateEnrolment(
  ctx: EnterpriseContext,
  raw: unknown,
): EnrolmentInput | Array<{ field: string; problem: string }> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return [{ field: "row", problem: "is not an object" }];
  }
  const r = raw as Record<string, unknown>;
  const problems: Array<{ field: string; problem: string }> = [];
  for (const k of Object.keys(r)) {
    if (!(ENROLMENT_FIELDS as readonly string[]).includes(k))
      problems.push({ field: k, problem: "is not a known field" });
  }
  const imei = text(r.imei, 32);
  if (!imei || !/^[0-9]{15}$/.test(imei) || !isLuhnValid(imei)) {
    problems.push({ field: "imei", problem: "is not a 15-digit IMEI with a valid check digit" });
  }
  const user = text(r.user, 256);
  if (user === undefined) problems.push({ field: "user", problem: "is not text" });
  const group = text(r.userGroup, 64);
  if (group === undefined || (group !== null && !Object.hasOwn(ctx.policy.groups, group))) {
    problems.push({
      field: "userGroup",
      problem: `is not one of ${Object.keys(ctx.policy.groups).join(", ")}`,
    });
  }
  if (problems.length > 0) return problems;
  return { imei: imei!, user: user ?? null, userGroup: group ?? null };
}

/** Validates every row, then imports all of them in one transaction, or none. */
export async function importEnrolment(
  ctx: EnterpriseContext,
  rows: Numbered[],
  format: "json" | "csv",
): Promise<{ imported: number }> {
  const good: EnrolmentInput[] = [];
  const errors: RowError[] = [];
  const seen = new Map<string, number>();
  for (const n of rows) {
    const v = validateEnrolment(ctx, n.raw);
    const at = { row: n.row, ...(n.line !== undefined ? { line: n.line } : {}) };
    if (Array.isArray(v)) {
      for (const p of v) errors.push({ ...at, ...p });
      continue;
    }
    const again = seen.get(v.imei);
    if (again !== undefined) errors.push({ ...at, field: "imei", problem: `repeats row ${again}` });
    seen.set(v.imei, n.row);
    good.push(v);
  }
  if (errors.length > 0) {
    const f = errors[0]!;
    const where = f.line !== undefined ? `line ${f.line}` : `row ${f.row}`;
    throw new EnterpriseError(
      "ENROLMENT_INVALID",
      `${errors.length} problem(s), the first at ${where}: ${f.field} ${f.problem}; nothing was imported`,
      { rows: errors.slice(0, MAX_LISTED), problems: errors.length },
    );
  }
  const r = await ctx.part.enrolment.import(good, ctx.now());
  await ctx.part.audit.append(
    {
      actor: ctx.owner,
      action: "enrolment-import",
      details: { format, inserted: r.inserted, updated: r.updated },
    },
    ctx.now(),
  );
  return { imported: r.inserted + r.updated };
}

/** `dmguard enterprise enroll`: one device added or changed. */
export async function enroll(ctx: EnterpriseContext, raw: unknown): Promise<EnrolmentRecord> {
  const v = validateEnrolment(ctx, raw);
  if (Array.isArray(v)) {
    throw new EnterpriseError("ENROLMENT_INVALID", `${v[0]!.field} ${v[0]!.problem}`, {
      rows: v.map((p) => ({ row: 1, ...p })),
      problems: v.length,
    });
  }
  const rec = await ctx.part.enrolment.set(v, ctx.now());
  await ctx.part.audit.append(
    {
      actor: ctx.owner,
      action: "enrolled",
      subject: v.imei,
      details: { userGroup: v.userGroup ?? null },
    },
    ctx.now(),
  );
  return rec;
}

/** `dmguard enterprise unenroll`: the device leaves the list (its DM account stops working). */
export async function unenroll(
  ctx: EnterpriseContext,
  imei: string,
): Promise<{ imei: string; removed: true }> {
  if (!(await ctx.part.enrolment.remove(imei))) {
    throw new EnterpriseError("DEVICE_NOT_FOUND", "no device of that IMEI is enrolled");
  }
  await ctx.part.access.remove(imei);
  await ctx.part.audit.append({ actor: ctx.owner, action: "unenrolled", subject: imei }, ctx.now());
  return { imei, removed: true };
}
