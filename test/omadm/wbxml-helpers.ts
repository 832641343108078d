/**
 * Shared by the WBXML tests: byte-vector building and a tree normaliser for comparing trees that
 * went through codecs which may keep or drop whitespace (libwbxml drops "ignorable" whitespace).
 */
import {
  type Content,
  type Element,
  isElement,
  type Namespace,
} from "../../src/omadm/model/element.js";

/** Bytes from numbers and strings (strings as UTF-8, no terminator). */
export function bytes(
  ...parts: Array<number | string | readonly number[] | Uint8Array>
): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "number") out.push(p);
    else if (typeof p === "string") out.push(...new TextEncoder().encode(p));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}

/** An inline string token: STR_I, the UTF-8 bytes, NUL. */
export function strI(s: string): number[] {
  return [0x03, ...new TextEncoder().encode(s), 0x00];
}

export interface Norm {
  name: string;
  ns: Namespace;
  children: Array<Norm | string>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Whitespace-only text dropped, text trimmed, adjacent text merged; opaque bytes compared as
 * their UTF-8 text (libwbxml writes Data content as OPAQUE, our XML reader gives text).
 */
export function normalize(e: Element): Norm {
  const children: Array<Norm | string> = [];
  let text = "";
  const flush = (): void => {
    const t = text.trim();
    if (t !== "") children.push(t);
    text = "";
  };
  for (const c of e.children as Content[]) {
    if (typeof c === "string") text += c;
    else if (c instanceof Uint8Array) text += utf8.decode(c);
    else if (isElement(c)) {
      flush();
      children.push(normalize(c));
    }
  }
  flush();
  return { name: e.name, ns: e.ns, children };
}

/** Number of elements in a tree. */
export function countElements(e: Element): number {
  let n = 1;
  for (const c of e.children) if (isElement(c)) n += countElements(c);
  return n;
}
