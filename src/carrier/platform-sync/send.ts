import { callJson, errorCodeOf, type JsonAnswer, noAnswer } from "../http-out/json-call.js";
import type { BatchAnswer, Outcome } from "./delivery-loop.js";
import type { OutboxRow } from "./outbox.js";

/** Where to post, with what token, how long to wait (the sync's options, resolved). */
export interface PlatformTarget {
  /** The platform's base URL (`…/platform`), without a trailing slash. */
  url: string;
  carrier: string;
  token: string;
  timeoutMs: number;
}

/** Codes for which retrying cannot help: the device is not in custody, or the event is bad. */
const FINAL = new Set(["DEVICE_NOT_FOUND", "INVALID_REQUEST"]);

function eventOf(row: OutboxRow) {
  return row.event === "activated"
    ? { event: row.event, activatedAt: row.activatedAt }
    : { event: row.event, version: row.version };
}

/** One POST of JSON with the carrier's token, within the sync's timeout. */
function post(t: PlatformTarget, path: string, body: unknown): Promise<JsonAnswer> {
  return callJson({
    method: "POST",
    url: `${t.url}${path}`,
    token: t.token,
    json: body,
    timeoutMs: t.timeoutMs,
  });
}

function unreachable(err: unknown): string {
  return `platform unreachable (${noAnswer(err)})`;
}

const MISMATCH: BatchAnswer = {
  kind: "retry",
  why: "the platform's answer does not match the batch",
};

const errorCode = (body: unknown, status: number) => errorCodeOf(body) ?? `HTTP ${status}`;

/** One row to `POST …/custody/{carrier}/devices/{imei}/events`. */
export async function sendOne(t: PlatformTarget, row: OutboxRow): Promise<Outcome> {
  let a: JsonAnswer;
  try {
    a = await post(t, `/custody/${t.carrier}/devices/${row.imei}/events`, eventOf(row));
  } catch (err) {
    return { kind: "retry", why: unreachable(err), receiver: true };
  }
  if (a.ok) {
    return {
      kind: "delivered",
      applied: (a.body as { applied?: unknown } | null)?.applied === true,
    };
  }
  const code = errorCode(a.body, a.status);
  // The platform says the device is not in this carrier's custody (never deposited) or the
  // event is one it will never take: retrying cannot help. Anything else, a bare 404 included
  // (a wrong base URL, a proxy), or a refused token, the operator can fix: keep trying. Only a
  // 409 (the device's record changed meanwhile) is about this row; the rest (5xx, 401, 404, …)
  // would answer every row alike, so the loop backs off the platform as a whole.
  if (FINAL.has(code)) return { kind: "dropped", why: code };
  return a.status === 409
    ? { kind: "retry", why: code }
    : { kind: "retry", why: code, receiver: true };
}

/**
 * Rows (one page of the outbox) to `POST …/custody/{carrier}/events`, answered row by row.
 * A 400 or 404 for the whole batch (a platform without the route, or a row its schema refuses)
 * says nothing about each row: those are sent one by one, where each gets its own answer.
 */
export async function sendBatch(
  t: PlatformTarget,
  rows: readonly OutboxRow[],
): Promise<BatchAnswer> {
  let a: JsonAnswer;
  try {
    a = await post(t, `/custody/${t.carrier}/events`, {
      events: rows.map((r) => ({ imei: r.imei, ...eventOf(r) })),
    });
  } catch (err) {
    return { kind: "retry", why: unreachable(err) };
  }
  if (a.status === 400 || a.status === 404) return { kind: "one-by-one" };
  if (!a.ok) return { kind: "retry", why: errorCode(a.body, a.status) };
  const results = (a.body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results) || results.length !== rows.length) return MISMATCH;
  // Each result is `{ applied }` or a dmguard error answer `{ error: { code } }`; anything
  // else (a null, an error without a code) means the answer cannot be trusted row by row.
  const outcomes: Outcome[] = [];
  for (const r of results as unknown[]) {
    if (typeof r !== "object" || r === null) return MISMATCH;
    if (!("error" in r)) {
      outcomes.push({ kind: "delivered", applied: (r as { applied?: unknown }).applied === true });
      continue;
    }
    const code = errorCodeOf(r);
    if (code === undefined) return MISMATCH;
    outcomes.push(FINAL.has(code) ? { kind: "dropped", why: code } : { kind: "retry", why: code });
  }
  return { kind: "each", outcomes };
}
