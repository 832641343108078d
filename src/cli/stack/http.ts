/**
 * JSON over HTTP to a running stack, with the failures a user can act on turned into one-line
 * CliErrors: the stack is not running, a request timed out, or a part refused (its error code
 * and message, from the parts' one error serializer).
 */
import { CliError } from "../exit.js";

/** How long one admin or activation request may take before the command gives up. */
export const REQUEST_TIMEOUT_MS = 30_000;

export interface JsonRequest {
  method?: "GET" | "POST" | "PUT" | "DELETE";
  body?: unknown;
  token?: string;
}

/** A refusal from a part: HTTP status plus the part's stable error code. */
export class HttpRefusal extends CliError {
  readonly status: number;
  readonly code: string;

  constructor(what: string, status: number, code: string, message: string) {
    super(`${what}: ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

function unreachable(url: string, err: unknown): CliError {
  const cause = (err as { cause?: { code?: string } }).cause;
  if ((err as Error).name === "TimeoutError") {
    return new CliError(`no answer from ${url} within ${REQUEST_TIMEOUT_MS / 1000} s`);
  }
  const why = cause?.code ?? (err as Error).message;
  return new CliError(
    `the stack at ${new URL(url).origin} is not reachable (${why}); is it running?`,
  );
}

export async function requestJson<T>(what: string, url: string, req: JsonRequest = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (req.body !== undefined) headers["content-type"] = "application/json";
  if (req.token !== undefined) headers.authorization = `Bearer ${req.token}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method ?? (req.body === undefined ? "GET" : "POST"),
      headers,
      ...(req.body === undefined ? {} : { body: JSON.stringify(req.body) }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw unreachable(url, err);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    throw new CliError(`${what}: ${url} answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const e = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    throw new HttpRefusal(
      what,
      res.status,
      typeof e?.code === "string" ? e.code : `HTTP_${res.status}`,
      typeof e?.message === "string" ? e.message : res.statusText,
    );
  }
  return parsed as T;
}
