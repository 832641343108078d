/**
 * A small RFC 4180 reader for enrolment lists: comma-separated, double-quoted fields with ""
 * for a quote, CRLF or LF. Bounded (records, field length). Returns records with the line each
 * starts on, so an error names the line a person sees.
 */
export class CsvError extends Error {
  override readonly name = "CsvError";
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export function parseCsv(
  text: string,
  limits: { maxRecords: number; maxField: number },
): Array<{ line: number; fields: string[] }> {
  const out: Array<{ line: number; fields: string[] }> = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let v = "";
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw new CsvError(start, "a quoted field is not closed");
          if (text[i] === '"' && text[i + 1] === '"') {
            v += '"';
            i += 2;
          } else if (text[i] === '"') {
            i++;
            break;
          } else {
            if (text[i] === "\n") line++;
            v += text[i++];
          }
          if (v.length > limits.maxField) throw new CsvError(start, "a field is too long");
        }
      } else {
        const from = i;
        while (i < text.length && !",\r\n".includes(text[i]!)) {
          if (text[i] === '"') throw new CsvError(line, "a quote inside an unquoted field");
          i++;
        }
        v = text.slice(from, i);
        if (v.length > limits.maxField) throw new CsvError(start, "a field is too long");
      }
      fields.push(v);
      if (text[i] !== ",") break;
      i++;
    }
    if (i < text.length && !"\r\n".includes(text[i]!))
      throw new CsvError(line, "text after a closing quote");
    if (text[i] === "\r") i++;
    if (text[i] === "\n") i++;
    line++;
    if (fields.length === 1 && fields[0] === "") continue;
    if (out.length >= limits.maxRecords) throw new CsvError(start, "too many records");
    out.push({ line: start, fields });
  }
  return out;
}
