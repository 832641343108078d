/**
 * The neutral element tree both codecs meet at: the XML reader and the WBXML decoder produce it,
 * the XML writer and the WBXML encoder consume it, and `bind.ts` maps it to and from the typed
 * message model. Keeping the codecs on this small shape lets each be tested against the other
 * (and against libwbxml) without knowing SyncML semantics.
 */

/** The three OMA DM vocabularies: SyncML (WBXML code page 0), MetInf (page 1), DevInf (page 0 of 0x1203). */
export type Namespace = "syncml" | "metinf" | "devinf";

/** XML namespace URIs as OMA-TS-SyncML_RepPro / DM_RepPro write them. */
export const NAMESPACE_URI: Readonly<Record<Namespace, string>> = {
  syncml: "SYNCML:SYNCML1.2",
  metinf: "syncml:metinf",
  devinf: "syncml:devinf",
};

/** Child content: a nested element, character data, or WBXML opaque bytes. */
export type Content = Element | string | Uint8Array;

export interface Element {
  readonly name: string;
  readonly ns: Namespace;
  readonly children: Content[];
}

export function element(name: string, ns: Namespace, children: Content[] = []): Element {
  return { name, ns, children };
}

export function isElement(c: Content): c is Element {
  // isView, not `instanceof Uint8Array`: instanceof walks an element's prototype chain each time.
  return typeof c === "object" && !ArrayBuffer.isView(c);
}

/**
 * `content[start, end)` as a children array of exactly that length. Tree builders gather
 * children on one stack and cut each element's off at its end; literals for the common sizes
 * skip the builtin call and still give a packed array.
 */
export function childrenOf(content: readonly Content[], start: number, end: number): Content[] {
  const n = end - start;
  return n === 0
    ? []
    : n === 1
      ? [content[start]!]
      : n === 2
        ? [content[start]!, content[start + 1]!]
        : content.slice(start, end);
}
