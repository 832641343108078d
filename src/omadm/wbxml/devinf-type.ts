/**
 * The MIME type that announces an embedded DevInf names its representation
 * (OMA-TS-DS_DevInf-V1_2 / OMA-TS-SyncML_RepPro-V1_2: `application/vnd.syncml-devinf+xml` in XML
 * messages, `application/vnd.syncml-devinf+wbxml` in WBXML ones). The WBXML codec changes that
 * representation — DevInf is an element in the tree and an embedded WBXML document on the wire —
 * so it rewrites the Type that goes with it, as libwbxml does: the tree always says `+xml`, the
 * wire always says `+wbxml`. Peers such as libwbxml decide from this Type whether to expand the
 * embedded document.
 */
import { type Element, isElement } from "../model/element.js";

export const DEVINF_XML_TYPE = "application/vnd.syncml-devinf+xml";
export const DEVINF_WBXML_TYPE = "application/vnd.syncml-devinf+wbxml";

/**
 * MetInf `Type` elements announcing an embedded DevInf whose text is `text`: those in the Meta of
 * an Item whose Data holds a DevInf element, and in the Meta of that Item's command.
 */
export function devInfTypes(root: Element, text: string): Element[] {
  const found: Element[] = [];
  collect(root, undefined, text, found);
  return found;
}

function collect(el: Element, parent: Element | undefined, text: string, found: Element[]): void {
  if (el.ns === "syncml" && el.name === "Item" && carriesDevInf(el)) {
    typesIn(el, text, found);
    if (parent) typesIn(parent, text, found);
  }
  for (const c of el.children) if (isElement(c)) collect(c, el, text, found);
}

function carriesDevInf(item: Element): boolean {
  return item.children.some(
    (c) =>
      isElement(c) &&
      c.ns === "syncml" &&
      c.name === "Data" &&
      c.children.some((x) => isElement(x) && x.ns === "devinf"),
  );
}

function typesIn(owner: Element, text: string, found: Element[]): void {
  for (const meta of owner.children) {
    if (!isElement(meta) || meta.ns !== "syncml" || meta.name !== "Meta") continue;
    for (const t of meta.children) {
      if (
        isElement(t) &&
        t.ns === "metinf" &&
        t.name === "Type" &&
        t.children.length === 1 &&
        typeof t.children[0] === "string" &&
        t.children[0].trim() === text &&
        !found.includes(t)
      ) {
        found.push(t);
      }
    }
  }
}
