/**
 * The client side of the HTTP binding over the global fetch: POST the message with its media
 * type (and x-syncml-hmac when signed), accept only a 200 with a SyncML body of bounded size.
 */
import { encodingForMediaType } from "../codec.js";
import type { DmRequest, DmResponse, DmTransport } from "../session/transport.js";
import { fetchWithTimeout } from "./timed-fetch.js";

export class DmHttpError extends Error {
  override readonly name = "DmHttpError";
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface FetchTransportOptions {
  /** Abort a request after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** Largest response body accepted (default 1 MiB). */
  readonly maxResponseBytes?: number;
  readonly fetch?: typeof fetch;
}

export function fetchTransport(opts: FetchTransportOptions = {}): DmTransport {
  const doFetch = opts.fetch ?? fetch;
  const limit = opts.maxResponseBytes ?? 1024 * 1024;
  return (req: DmRequest): Promise<DmResponse> =>
    fetchWithTimeout(
      doFetch,
      req.url,
      {
        method: "POST",
        headers: { "content-type": req.mediaType, accept: req.mediaType, ...req.headers },
        body: req.body,
      },
      opts.timeoutMs ?? 30_000,
      (res) => answer(res, limit),
    );
}

async function answer(res: Response, limit: number): Promise<DmResponse> {
  const mediaType = res.headers.get("content-type") ?? "";
  if (res.status !== 200) {
    throw new DmHttpError(res.status, `DM server answered HTTP ${res.status}`);
  }
  if (encodingForMediaType(mediaType) === undefined) {
    throw new DmHttpError(res.status, `DM server answered with ${mediaType || "no media type"}`);
  }
  const body = await readLimited(res, limit);
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    headers[k.toLowerCase()] = v;
  });
  return { body, mediaType, headers };
}

async function readLimited(res: Response, limit: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    throw new DmHttpError(res.status, "DM response too large");
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      throw new DmHttpError(res.status, "DM response too large");
    }
    parts.push(value);
  }
  return new Uint8Array(Buffer.concat(parts, size));
}
