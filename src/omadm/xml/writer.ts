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

/**
 * `<Name` and `</Name>` per element name, built once: the DM vocabulary is small and a message
 * repeats it. Bounded, since names in embedded documents come from the peer.
 */
const tags = new Map<string, readonly [open: string, close: string]>();
const MAX_CACHED_TAGS = 512;

function tagsOf(name: string): readonly [string, string] {
  let t = tags.get(name);
  if (t === undefined) {
    t = [`<${name}`, `</${name}>`];
    if (tags.size < MAX_CACHED_TAGS) tags.set(name, t);
  }
  return t;
}

function openTag(open: string, el: Element, parentNs: Namespace | undefined): string {
  return el.ns === parentNs ? open : `${open} xmlns="${attributeValue(NAMESPACE_URI[el.ns])}"`;
}

function child(c: Content, ns: Namespace, out: string): string {
  if (typeof c === "string") return out + textContent(c);
  if (c instanceof Uint8Array) return out + base64(c);
  return compact(c, ns, out);
}

function compact(el: Element, parentNs: Namespace | undefined, out: string): string {
  const [open, close] = tagsOf(el.name);
  const kids = el.children;
  let s = out + openTag(open, el, parentNs);
  if (kids.length === 0) return `${s}/>`;
  s += ">";
  for (let i = 0; i < kids.length; i++) s = child(kids[i]!, el.ns, s);
  return s + close;
}

/** Indents only elements whose children are all elements: text is never reflowed. */
function indented(el: Element, parentNs: Namespace | undefined, pad: string, out: string): string {
  const kids = el.children;
  if (kids.length === 0 || !kids.every(isElementContent)) return compact(el, parentNs, out + pad);
  const [open, close] = tagsOf(el.name);
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
