/**
 * Element paths for SYNCML_INVALID errors (`SyncML/SyncBody/Status[2]`), built only when an error
 * is raised: reading keeps a cheap parent chain, and the path text is assembled from it on demand.
 */
import { ProtocolError } from "../errors.js";
import { type Element, isElement } from "./element.js";

export interface Path {
  readonly up: Path | undefined;
  readonly el: Element;
  /** Set for repeatable elements (commands, Item, …): they are shown with their 1-based index. */
  readonly within: Element | undefined;
}

export function rootPath(el: Element): Path {
  return { up: undefined, el, within: undefined };
}

/** The path of `el` below `up` (undefined: `el` is the root). */
export function childPath(up: Path | undefined, el: Element, repeatable = false): Path {
  return { up, el, within: repeatable && up !== undefined ? up.el : undefined };
}

export function formatPath(path: Path): string {
  const parts: string[] = [];
  for (let p: Path | undefined = path; p !== undefined; p = p.up) {
    parts.push(p.within === undefined ? p.el.name : `${p.el.name}[${indexAmongNamesakes(p)}]`);
  }
  return parts.reverse().join("/");
}

function indexAmongNamesakes(p: Path): number {
  let n = 0;
  for (const c of p.within!.children) {
    if (isElement(c) && c.name === p.el.name) {
      n++;
      if (c === p.el) return n;
    }
  }
  return n;
}

export function invalid(message: string, path: Path): ProtocolError {
  return new ProtocolError("SYNCML_INVALID", message, { path: formatPath(path) });
}
