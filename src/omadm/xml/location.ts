/**
 * Turning a character offset into a line:column a field engineer can find, and the one way the
 * XML codec raises errors. Computed only when an error is raised, never on the happy path.
 */
import { type Location, ProtocolError, type ProtocolErrorCode } from "../errors.js";

export function locate(text: string, offset: number): Location {
  const at = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < at; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { offset: at, line, column: at - lineStart + 1 };
}

export function xmlError(
  code: ProtocolErrorCode,
  message: string,
  text: string,
  offset: number,
): ProtocolError {
  return new ProtocolError(code, message, locate(text, offset));
}
