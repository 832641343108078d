/**
 * The XML writer: element tree to SyncML DM text (OMA-TS-DM_RepPro §5). Compact by default —
 * what goes on the wire — or indented for people. The root declares its vocabulary's namespace
 * (`SYNCML:SYNCML1.2`); an element in another vocabulary than its parent declares its own
 * (`syncml:metinf`, `syncml:devinf`) as a default namespace, as the DM specification's examples do.
 * Opaque bytes (WBXML opaque data) become base64 text, the XML form of a b64 DM value.
 */
import { type Content, type Element, NAMESPACE_URI, type Namespace } from "../model/element.js";
import { attributeValue, textContent } from "./escape.js";

export interface WriteXmlOptions {
  /** Line breaks and two-space indentation between elements (never inside text). */
  indent?: boolean;
  /** Begin with `<?xml version="1.0" encoding="UTF-8"?>`. */
  declaration?: boolean;
}

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

export function writeXml(root: Element, opts: WriteXmlOptions = {}): string {
  const head = opts.declaration ? (opts.indent ? `${DECLARATION}\n` : DECLARATION) : "";
  return opts.indent ? indented(root, undefined, "", head) : compact(root, undefined, head);
}

/**
 * The compact XML text of `content` as it would appear inside an element of namespace
 * `context`: how an XML document embedded in a Data element becomes that Data's text.
 */
export function writeXmlFragment(content: readonly Content[], context: Namespace): string {
  let out = "";
  for (const c of content) out = child(c, context, out);
  return out;
}

/** ` xmlns="…"` per vocabulary, built once: every MetInf element in a Meta repeats one. */
const XMLNS_ATTR: Readonly<Record<Namespace, string>> = {
  syncml: ` xmlns="${attributeValue(NAMESPACE_URI.syncml)}"`,
  metinf: ` xmlns="${attributeValue(NAMESPACE_URI.metinf)}"`,
  devinf: ` xmlns="${attributeValue(NAMESPACE_URI.devinf)}"`,
};

/**
 * The tags of one element name, whole: `<Name>`, `<Name/>` and `</Name>`, and the start and
 * empty tags that declare each vocabulary. A message repeats a small vocabulary, and whole tags
 * mean fewer pieces to join into the text (every join makes a piece the encoder must gather).
 */
interface Tags {
  readonly open: string;
  readonly start: string;
  readonly empty: string;
  readonly close: string;
  readonly startNs: Readonly<Record<Namespace, string>>;
  readonly emptyNs: Readonly<Record<Namespace, string>>;
}

/** Built once per name; bounded, since names in embedded documents come from the peer. */
const tags = new Map<string, Tags>();
const MAX_CACHED_TAGS = 512;

function tagsOf(name: string): Tags {
  let t = tags.get(name);
  if (t === undefined) {
    const open = `<${name}`;
    const ns = (suffix: string): Record<Namespace, string> => ({
      syncml: open + XMLNS_ATTR.syncml + suffix,
      metinf: open + XMLNS_ATTR.metinf + suffix,
      devinf: open + XMLNS_ATTR.devinf + suffix,
    });
    t = {
      open,
      start: `${open}>`,
      empty: `${open}/>`,
      close: `</${name}>`,
      startNs: ns(">"),
      emptyNs: ns("/>"),
    };
    if (tags.size < MAX_CACHED_TAGS) tags.set(name, t);
  }
  return t;
}

function openTag(open: string, el: Element, parentNs: Namespace | undefined): string {
  return el.ns === parentNs ? open : open + XMLNS_ATTR[el.ns];
}

function child(c: Content, ns: Namespace, out: string): string {
  if (typeof c === "string") return out + textContent(c);
  if (c instanceof Uint8Array) return out + base64(c);
  return compact(c, ns, out);
}

function compact(el: Element, parentNs: Namespace | undefined, out: string): string {
  const t = tagsOf(el.name);
  const kids = el.children;
  const same = el.ns === parentNs;
  if (kids.length === 0) return out + (same ? t.empty : t.emptyNs[el.ns]);
  let s = out + (same ? t.start : t.startNs[el.ns]);
  for (let i = 0; i < kids.length; i++) s = child(kids[i]!, el.ns, s);
  return s + t.close;
}

/** Indents only elements whose children are all elements: text is never reflowed. */
function indented(el: Element, parentNs: Namespace | undefined, pad: string, out: string): string {
  const kids = el.children;
  if (kids.length === 0 || !kids.every(isElementContent)) return compact(el, parentNs, out + pad);
  const { open, close } = tagsOf(el.name);
  let s = `${out}${pad}${openTag(open, el, parentNs)}>\n`;
  const inner = `${pad}  `;
  for (const k of kids) s = `${indented(k as Element, el.ns, inner, s)}\n`;
  return `${s}${pad}${close}`;
}

function isElementContent(c: Content): boolean {
  return typeof c !== "string" && !(c instanceof Uint8Array);
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
