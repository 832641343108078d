/**
 * The public entry to encoding OMA DM messages: bytes or text in, typed message out, and back.
 * A DM message travels as XML (`application/vnd.syncml.dm+xml`) or WBXML
 * (`application/vnd.syncml.dm+wbxml`), OMA-TS-DM_RepPro-V1_2 §5 and Appendix C; both meet at the
 * neutral element tree, which `model/bind` maps to the message model.
 *
 * WBXML also has a direct path that builds no tree: wbxml/decode-message.ts reads tokens into the
 * model through the same binding, and wbxml/encode-message.ts writes tokens from the model
 * through the same binding and byte writer. The tree path stays the reference: the direct
 * decoder leaves to it whatever it does not take, and every error is reported by it, so both
 * paths answer alike (src/omadm/README.md).
 */
import { DEFAULT_LIMITS, type Limits, ProtocolError } from "./errors.js";
import { fromMessage, toMessage } from "./model/bind.js";
import type { Encoding, SyncMLMessage } from "./model/message.js";
import { decodeWbxml } from "./wbxml/decode.js";
import { decodeMessageWbxml } from "./wbxml/decode-message.js";
import { encodeWbxml } from "./wbxml/encode.js";
import { encodeMessageWbxml } from "./wbxml/encode-message.js";
import { xmlTextFromBytes } from "./xml/bytes.js";
import { parseXml } from "./xml/reader.js";
import { writeXml } from "./xml/writer.js";

export const MEDIA_TYPE: Readonly<Record<Encoding, string>> = Object.freeze({
  xml: "application/vnd.syncml.dm+xml",
  wbxml: "application/vnd.syncml.dm+wbxml",
});

export interface DecodeOptions {
  limits?: Partial<Limits>;
}

export interface Decoded {
  message: SyncMLMessage;
  encoding: Encoding;
}

/**
 * Decodes one DM message. Text is XML; bytes are WBXML or XML as their first bytes say
 * (`detectEncoding`). The size limit is checked before anything else is looked at. Throws only
 * ProtocolError: LIMIT_EXCEEDED, ENCODING_UNKNOWN, XML_* / WBXML_*, SYNCML_INVALID.
 */
export function decodeMessage(input: Uint8Array | string, opts?: DecodeOptions): Decoded {
  const limits = opts?.limits;
  if (typeof input === "string") {
    return { message: toMessage(parseXml(input, limits)), encoding: "xml" };
  }
  const maxBytes = limits?.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  if (input.byteLength > maxBytes) {
    throw new ProtocolError(
      "LIMIT_EXCEEDED",
      `message of ${input.byteLength} bytes exceeds the limit of ${maxBytes}`,
      { offset: maxBytes },
    );
  }
  const encoding = detectEncoding(input);
  if (encoding === "wbxml") {
    let message: SyncMLMessage;
    try {
      message = decodeMessageWbxml(input, limits);
    } catch {
      // Whatever the direct path does not take (or finds wrong), the tree path decodes or
      // reports with its byte offset or element path.
      message = toMessage(decodeWbxml(input, limits));
    }
    return { message, encoding };
  }
  if (encoding === "xml") {
    return { message: toMessage(parseXml(xmlTextFromBytes(input), limits)), encoding };
  }
  throw new ProtocolError(
    "ENCODING_UNKNOWN",
    input.byteLength === 0 ? "empty message" : "neither XML nor WBXML",
    { offset: 0 },
  );
}

const utf8 = new TextEncoder();

/**
 * Encodes a message for the wire: UTF-8 XML with its declaration, or WBXML 1.2. WBXML is written
 * straight from the model; a model that path refuses is encoded again through the element tree,
 * whose error says where (and which the direct path's bytes always equal where both succeed).
 */
export function encodeMessage(message: SyncMLMessage, encoding: Encoding): Uint8Array {
  if (encoding === "wbxml") {
    try {
      return encodeMessageWbxml(message);
    } catch {
      return encodeWbxml(fromMessage(message));
    }
  }
  const root = fromMessage(message);
  if (encoding === "xml") return utf8.encode(writeXml(root, { declaration: true }));
  throw new ProtocolError("ENCODING_UNKNOWN", `unknown encoding ${String(encoding)}`);
}

export interface MessageToXmlOptions {
  indent?: boolean;
  declaration?: boolean;
}

/** The XML text of a message: compact, or indented for people (the CLI's decode). */
export function messageToXml(message: SyncMLMessage, opts?: MessageToXmlOptions): string {
  return writeXml(fromMessage(message), opts);
}

/**
 * The encoding the first bytes announce. WBXML (WAP-192-WBXML §5.4) starts with its version
 * byte — DM uses 1.1 to 1.3, 0x01–0x03, bytes that cannot begin XML text — then the public id as
 * an mb_u_int32. XML starts with '<' or whitespace, after an optional UTF-8 byte order mark, or
 * with a UTF-16 byte order mark.
 */
export function detectEncoding(input: Uint8Array): Encoding | undefined {
  const b0 = input[0];
  if (b0 === undefined) return undefined;
  if (b0 >= 0x01 && b0 <= 0x03) {
    // mb_u_int32 (§5.1): at most five bytes, the last without the continuation bit.
    for (let i = 1; i < 6 && i < input.length; i++) {
      if ((input[i]! & 0x80) === 0) return "wbxml";
    }
    return undefined;
  }
  let i = 0;
  if (b0 === 0xef && input[1] === 0xbb && input[2] === 0xbf) i = 3;
  else if ((b0 === 0xfe && input[1] === 0xff) || (b0 === 0xff && input[1] === 0xfe)) return "xml";
  const c = input[i];
  return c === 0x3c || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 ? "xml" : undefined;
}

/**
 * The encoding a Content-Type names. Besides the DM types, clients also send the data-sync ones,
 * `application/vnd.syncml+xml` / `+wbxml`; parameters (`; charset=UTF-8`) are ignored.
 */
export function encodingForMediaType(contentType: string): Encoding | undefined {
  const semi = contentType.indexOf(";");
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  switch (type) {
    case "application/vnd.syncml.dm+xml":
    case "application/vnd.syncml+xml":
      return "xml";
    case "application/vnd.syncml.dm+wbxml":
    case "application/vnd.syncml+wbxml":
      return "wbxml";
  }
  return undefined;
}
