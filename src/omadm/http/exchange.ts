/**
 * One DM exchange over HTTP, independent of the server framework (OMA-TS-DM_HTTPBinding,
 * OMA-TS-DM_Security §5.1.4.3 for x-syncml-hmac): the request's media type must be a SyncML one
 * and decides the reply's; malformed SyncML is a plain 400 that names the error code and never
 * carries a stack; anything unexpected is a bare 500.
 */

import { HMAC_HEADER } from "../auth/hmac.js";
import { encodingForMediaType } from "../codec.js";
import { ProtocolError } from "../errors.js";
import type { DmServer } from "../session/server.js";

export interface HttpExchange {
  readonly method: string;
  readonly contentType: string | undefined;
  readonly hmacHeader: string | undefined;
  readonly body: Uint8Array;
}

export interface HttpReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

const text = (status: number, message: string, extra: Record<string, string> = {}): HttpReply => ({
  status,
  headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", ...extra },
  body: new TextEncoder().encode(`${message}\n`),
});

/** The media type without parameters, lower-cased. */
export function bareMediaType(contentType: string): string {
  const semi = contentType.indexOf(";");
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

export async function exchange(engine: DmServer, ex: HttpExchange): Promise<HttpReply> {
  if (ex.method !== "POST") return text(405, "method not allowed", { allow: "POST" });
  const declared = ex.contentType === undefined ? undefined : encodingForMediaType(ex.contentType);
  if (declared === undefined || ex.contentType === undefined) {
    return text(415, "unsupported media type: send application/vnd.syncml.dm+xml or +wbxml");
  }
  try {
    const { message, encoding } = engine.codec.decode(ex.body, engine.limits);
    if (encoding !== declared) {
      throw new ProtocolError(
        "ENCODING_UNKNOWN",
        `body is ${encoding} but Content-Type says ${declared}`,
      );
    }
    const reply = await engine.handle(message, {
      encoding,
      hmacHeader: ex.hmacHeader,
      rawBody: ex.body,
    });
    const headers: Record<string, string> = {
      // Answer in the media type the client spoke (DM or data-sync flavour).
      "content-type": bareMediaType(ex.contentType),
      "cache-control": "no-store",
    };
    const mac = reply.headers[HMAC_HEADER];
    if (mac !== undefined) headers[HMAC_HEADER] = mac;
    return { status: 200, headers, body: reply.body };
  } catch (err) {
    if (err instanceof ProtocolError) {
      const status = err.code === "LIMIT_EXCEEDED" ? 413 : 400;
      return text(status, `${err.code}: ${err.message}`);
    }
    return text(500, "internal error");
  }
}
