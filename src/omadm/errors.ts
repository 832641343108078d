/**
 * The one error type the protocol library throws for bad input or a broken protocol rule.
 * Callers switch on `code`, never on message text; `where` locates the fault in the input
 * (byte offset for WBXML, line:column for XML) so a field engineer can find it.
 */
export type ProtocolErrorCode =
  | "XML_MALFORMED"
  | "XML_DTD_FORBIDDEN"
  | "WBXML_MALFORMED"
  | "WBXML_UNSUPPORTED"
  | "LIMIT_EXCEEDED"
  | "SYNCML_INVALID"
  | "ENCODING_UNKNOWN"
  | "AUTH_FAILED"
  | "SESSION_INVALID";

export interface Location {
  /** Byte (WBXML) or character (XML) offset from the start of the input. */
  offset?: number;
  line?: number;
  column?: number;
  /** Element path such as `SyncML/SyncBody/Status[2]/CmdRef`, when known. */
  path?: string;
}

export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  readonly code: ProtocolErrorCode;
  readonly where: Location | undefined;

  constructor(code: ProtocolErrorCode, message: string, where?: Location) {
    const what = bounded(message);
    super(where ? `${what} (${formatLocation(where)})` : what);
    this.code = code;
    this.where = where;
  }
}

export function formatLocation(where: Location): string {
  const parts: string[] = [];
  if (where.line !== undefined) parts.push(`line ${where.line}:${where.column ?? 0}`);
  if (where.offset !== undefined) parts.push(`byte ${where.offset}`);
  if (where.path) parts.push(`at ${bounded(where.path)}`);
  return parts.join(", ");
}

/**
 * Messages quote what they refuse (an element's name, an attribute, a path), and all of it comes
 * from the peer: a name of half a megabyte came back whole in the HTTP answer and the log. Each
 * word longer than MAX_WORD is cut, so the sentence around it still reads, and the whole is
 * bounded; the location is kept whatever the rest.
 */
const MAX_WORD = 80;
const MAX_TEXT = 1_000;

function bounded(text: string): string {
  const short = text.replace(/\S{81,}/g, (w) => `${w.slice(0, MAX_WORD - 1)}…`);
  return short.length <= MAX_TEXT ? short : `${short.slice(0, MAX_TEXT - 1)}…`;
}

/** Bounds on untrusted input; every decoder enforces them before allocating. */
export interface Limits {
  /** Largest message accepted, in bytes (XML text counts UTF-16 units ≈ bytes for ASCII). */
  maxBytes: number;
  /** Deepest element nesting. */
  maxDepth: number;
  /** Most elements in one message. */
  maxElements: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxBytes: 1024 * 1024,
  maxDepth: 32,
  maxElements: 20_000,
});
