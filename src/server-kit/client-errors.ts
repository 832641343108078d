import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";

/**
 * The answer to a request Node's HTTP parser refused before any route saw it (the server's
 * `clientError`): a body that took too long, headers too large, or a request that is not HTTP
 * (two Content-Lengths, Content-Length beside Transfer-Encoding, a bad chunk). Written straight
 * to the socket, in the `{error: {code, message}}` shape every route answers with, then the
 * connection is closed. Nothing of the request is echoed.
 */
const REFUSALS: Readonly<Record<string, readonly [number, string, string]>> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, "REQUEST_TIMEOUT", "the request did not arrive in time"],
  HPE_HEADER_OVERFLOW: [431, "HEADERS_TOO_LARGE", "the request's headers are too large"],
};
const MALFORMED = [400, "MALFORMED_REQUEST", "the request is not well-formed HTTP"] as const;

export function answerClientError(err: Error & { code?: unknown }, socket: Socket): void {
  // A reset: the client is gone, there is no one to answer.
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, code, message] =
    (typeof err.code === "string" ? REFUSALS[err.code] : undefined) ?? MALFORMED;
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        "Content-Type: application/json; charset=utf-8\r\n" +
        "Cache-Control: no-store\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        "Connection: close\r\n\r\n" +
        body,
    );
  }
  socket.destroy();
}
