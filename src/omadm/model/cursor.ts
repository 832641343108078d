/**
 * What the reading half of the binding reads from: a cursor over the child elements of one
 * element at a time. The binding (bind-read.ts) is written once against it. The cursor walks an
 * element tree (the XML path, and the WBXML tree path), or takes elements from a `CursorSource`
 * that reads them straight from the bytes (wbxml/decode-message.ts), so no tree is built there.
 *
 * One class serves both, rather than one class each behind an interface, so that the binding's
 * many calls meet a single receiver shape: a server that handles XML and WBXML alike would
 * otherwise run the binding with call sites shared by two classes, measurably slower.
 */
import { childPath, type Path } from "./bind-path.js";
import type { Content, Element } from "./element.js";
import { isElement } from "./element.js";
import { base64Text, itemData, leafText } from "./element-text.js";
import type { ItemData } from "./message.js";
import { TAG_NAMES } from "./tags.js";

/**
 * Elements read from elsewhere than a tree. Errors found through a source are not reported with
 * an element path: its reader gives them up to the tree path, which reports them.
 */
export interface CursorSource {
  /** The name of the next child element of the element entered last, or undefined at its end. */
  nextName(): string | undefined;
  /** Enters the current child. */
  enter(): void;
  text(): string;
  data(): ItemData;
  base64(): string;
}

/** The path given for elements of a source: a placeholder, as no error through it is reported. */
const UNTRACKED_EL: Element = { name: "?", ns: "syncml", children: [] };
const UNTRACKED: Path = {
  up: { up: undefined, el: UNTRACKED_EL, within: undefined },
  el: UNTRACKED_EL,
  within: undefined,
};

/**
 * The binding's element names as the constants its `switch`es compare with. Names from the XML
 * reader are fresh strings; compared with a constant, each costs a comparison of characters,
 * and once the binding's comparisons have met such strings they take the slow comparison for
 * every string, the WBXML path's constants too. One string per name compares by identity. A
 * direct-mapped table: a name whose slot another held would only be left as it is.
 */
const NAME_SLOTS = 512;
const names: string[] = new Array<string>(NAME_SLOTS).fill("");
for (const n of [...TAG_NAMES, "MetInf"]) {
  const slot = nameSlot(n);
  if (names[slot] === "") names[slot] = n;
}

function nameSlot(n: string): number {
  const len = n.length;
  // Chosen so that the names above take a slot each.
  return (
    (len + n.charCodeAt(0) * 3 + n.charCodeAt(len - 1) * 5 + n.charCodeAt(len >> 1)) &
    (NAME_SLOTS - 1)
  );
}

function canonicalName(n: string): string {
  const known = names[nameSlot(n)]!;
  return known === n ? known : n;
}

/** What a cursor over a source keeps of a tree: nothing (shared, never written). */
const NOTHING: never[] = [];

export class ElementCursor {
  /** Name of the child element `next` moved to. */
  name = "";
  private readonly src: CursorSource | undefined;
  /** Children of the element entered last, and the index of the current one among them. */
  private kids: readonly Content[];
  private i = -1;
  private readonly outerKids: (readonly Content[])[];
  private readonly outerI: number[];

  /**
   * A cursor over the tree of `root` (its first `next` moves to `root`; its paths name the tree's
   * elements, as errors report them), or over `source`.
   */
  constructor(root: Element | undefined, source?: CursorSource) {
    this.src = source;
    if (root === undefined) {
      this.kids = this.outerKids = this.outerI = NOTHING;
    } else {
      this.kids = [root];
      this.outerKids = [];
      this.outerI = [];
    }
  }

  /**
   * Moves to the next child element of the element entered last, passing over what was not read
   * of the one before; false at the end, and the entered element is left.
   */
  next(): boolean {
    const src = this.src;
    if (src !== undefined) {
      const name = src.nextName();
      if (name === undefined) return false;
      this.name = name;
      return true;
    }
    return this.treeNext();
  }

  /** `next` over the tree; kept apart so that `next` stays small where it is inlined. */
  private treeNext(): boolean {
    const kids = this.kids;
    for (let i = this.i + 1; i < kids.length; i++) {
      const c = kids[i]!;
      if (isElement(c)) {
        this.i = i;
        this.name = canonicalName(c.name);
        return true;
      }
    }
    this.kids = this.outerKids.pop()!;
    this.i = this.outerI.pop()!;
    return false;
  }

  /**
   * Enters the current child, so that `next` walks its children; returns its path below `up`
   * (undefined: it is the root).
   */
  enter(up: Path | undefined, repeatable = false): Path {
    const src = this.src;
    if (src !== undefined) {
      src.enter();
      return UNTRACKED;
    }
    return this.treeEnter(up, repeatable);
  }

  private treeEnter(up: Path | undefined, repeatable: boolean): Path {
    const el = this.current();
    this.outerKids.push(this.kids);
    this.outerI.push(this.i);
    this.kids = el.children;
    this.i = -1;
    return childPath(up, el, repeatable);
  }

  /** The path of the current child below `up` (for an error about it). */
  here(up: Path): Path {
    return this.src !== undefined ? UNTRACKED : childPath(up, this.current());
  }

  /** The current child's text: character data, and opaque bytes as UTF-8; never elements. */
  text(up: Path): string {
    const src = this.src;
    return src !== undefined ? src.text() : leafText(this.current(), up);
  }

  /** The current child as Item Data, verbatim (bind-read-parts.ts `itemData`). */
  data(): ItemData {
    const src = this.src;
    return src !== undefined ? src.data() : itemData(this.current());
  }

  /** The current child as a base64 value (bind-read-parts.ts `base64Text`). */
  base64(up: Path): string {
    const src = this.src;
    return src !== undefined ? src.base64() : base64Text(this.current(), up);
  }

  /** The tree element `next` moved to. */
  private current(): Element {
    return this.kids[this.i] as Element;
  }
}
