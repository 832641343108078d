import { fetchWithTimeout } from "../../omadm/http/timed-fetch.js";

/**
 * The carrier's outbound JSON calls (the platform sync, the migration's questions, deposit and
 * notice), written once: JSON in and out, an optional bearer token, and a timeout.
 */

/** What the other side answered: its status and its body (null when the body is not JSON). */
export interface JsonAnswer {
  status: number;
  ok: boolean;
  body: unknown;
}

export interface JsonRequest {
  method: "GET" | "POST" | "PUT";
  url: string;
  /** Sent as `Authorization: Bearer …` when given. */
  token?: string;
  /** Sent as the JSON body when given. */
  json?: unknown;
  timeoutMs: number;
}

/**
 * One call. Throws only when no answer arrived (refused connection, timeout, a body cut short);
 * any answer, an error status included, is returned for the caller to judge. The timeout
 * covers the answer's body too, and leaves no timer behind (omadm's fetchWithTimeout).
 */
export function callJson(r: JsonRequest): Promise<JsonAnswer> {
  return fetchWithTimeout(
    fetch,
    r.url,
    {
      method: r.method,
      headers: {
        ...(r.token === undefined ? {} : { authorization: `Bearer ${r.token}` }),
        ...(r.json === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(r.json === undefined ? {} : { body: JSON.stringify(r.json) }),
    },
    r.timeoutMs,
    async (res) => ({ status: res.status, ok: res.ok, body: parseOrNull(await res.text()) }),
  );
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // An HTML error page of a proxy, an empty body: not an answer of a dmguard server.
    return null;
  }
}

/** The catalogue code of a dmguard error answer (`{ error: { code } }`), if the body is one. */
export function errorCodeOf(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === "string" && /^[A-Z_]{1,40}$/.test(code) ? code : undefined;
}

/** Why no answer arrived, short and naming no URL: the socket's code, or the error's name. */
export function noAnswer(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } }).cause?.code;
  return typeof cause === "string" ? cause : ((err as Error).name ?? "Error");
}
