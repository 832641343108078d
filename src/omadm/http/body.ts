import type { IncomingMessage } from "node:http";

export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
}

/**
 * Reads a request body, refusing as soon as it passes `limit` bytes (a declared Content-Length
 * over the limit is refused before reading anything).
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError("body too large");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) {
      req.resume();
      throw new BodyTooLargeError("body too large");
    }
    chunks.push(b);
  }
  return new Uint8Array(Buffer.concat(chunks, size));
}
