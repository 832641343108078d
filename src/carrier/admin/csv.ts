/**
 * A CSV reader for inventory imports (RFC 4180: comma-separated, double-quoted fields with ""
 * for a quote, CRLF or LF line ends). Each record carries the line it starts on, so an error
 * names the line a person sees in their editor. Bounded: a field over `maxField` characters or
 * more than `maxRecords` records is an error, not a memory spike.
 */
export interface CsvRecord {
  /** 1-based line number where the record starts. */
  line: number;
  fields: string[];
}

export class CsvError extends Error {
  override readonly name = "CsvError";
  readonly line: number;

  constructor(line: number, message: string) {
    super(message);
    this.line = line;
  }
}

export function parseCsv(
  text: string,
  limits: { maxRecords: number; maxField: number },
): CsvRecord[] {
  const out: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // a byte order mark, as spreadsheets write it
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let value = "";
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new CsvError(start, "a quoted field is not closed");
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === "\n") line++;
          value += c;
          i++;
          if (value.length > limits.maxField) throw new CsvError(start, "a field is too long");
        }
        if (i < n && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
          throw new CsvError(line, "text after a closing quote");
        }
      } else {
        const from = i;
        while (i < n && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") {
          if (text[i] === '"') throw new CsvError(line, "a quote inside an unquoted field");
          i++;
        }
        value = text.slice(from, i);
        if (value.length > limits.maxField) throw new CsvError(start, "a field is too long");
      }
      fields.push(value);
      if (i < n && text[i] === ",") {
        i++;
        continue;
      }
      break;
    }
    if (text[i] === "\r") i++;
    if (text[i] === "\n") i++;
    line++;
    // Blank lines (a trailing newline, spacing) hold no record.
    if (!(fields.length === 1 && fields[0] === "")) {
      if (out.length >= limits.maxRecords) throw new CsvError(start, "too many records");
      out.push({ line: start, fields });
    }
  }
  return out;
}
