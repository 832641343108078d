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
    super(where ? `${message} (${formatLocation(where)})` : message);
    this.code = code;
    this.where = where;
  }
}

export function formatLocation(where: Location): string {
  const parts: string[] = [];
  if (where.line !== undefined) parts.push(`line ${where.line}:${where.column ?? 0}`);
  if (where.offset !== undefined) parts.push(`byte ${where.offset}`);
  if (where.path) parts.push(`at ${where.path}`);
  return parts.join(", ");
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
