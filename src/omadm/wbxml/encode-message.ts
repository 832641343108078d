/**
 * Typed message → WBXML 1.2, without the element tree: the binding's writer (model/bind-write.ts)
 * hands each element to a sink target that writes its tokens at once through the same `WbxmlWriter` the
 * tree encoder uses. For a message, the bytes are those `encodeWbxml(fromMessage(message))`
 * writes (test/omadm/wbxml-direct.test.ts holds the two to that); this path skips building and
 * walking the tree, and looks no element name up.
 *
 * A model holds no DevInf element (Data is text or bytes), so the embedded-DevInf handling of the
 * tree encoder never applies here. What the tree encoder refuses with an element path, text
 * containing U+0000 or a model nested past its depth guard, this encoder refuses without one:
 * `encodeMessage` then takes the tree path, whose error names the element.
 */
import { ProtocolError } from "../errors.js";
import { MessageSink, type SinkTarget, writeMessage } from "../model/bind-write.js";
import type { SyncMLMessage } from "../model/message.js";
import { TAG_NAMES, TAG_NS } from "../model/tags.js";
import { MAX_ENCODE_DEPTH } from "./encode.js";
import { SYNCML_1_2 } from "./tables.js";
import { lendWriter, returnWriter, type WbxmlWriter } from "./writer.js";

/** `page << 8 | tag identity` of each `Tag` number in SyncML 1.2 (MetInf on page 1). */
const TOKENS: Int32Array = Int32Array.from(TAG_NAMES, (name, tag) => {
  const packed = SYNCML_1_2.tokens.get(TAG_NS[tag]!)?.get(name);
  if (packed === undefined) throw new Error(`no SyncML 1.2 token for ${name}`);
  return packed;
});

/** Encodes `message` as a SyncML 1.2 WBXML document. */
export function encodeMessageWbxml(message: SyncMLMessage): Uint8Array {
  const w = lendWriter();
  try {
    writeMessage(message, new MessageSink(new TokenSink(w)));
    return w.assemble(SYNCML_1_2.publicId);
  } finally {
    returnWriter(w);
  }
}

/** Writes each element as its tokens. */
class TokenSink implements SinkTarget {
  private readonly w: WbxmlWriter;

  constructor(w: WbxmlWriter) {
    this.w = w;
  }

  open(tag: number): void {
    // One level stricter than the tree encoder's guard, so that no model this writes is one the
    // tree encoder refuses (its leaves sit one level below the deepest open element).
    if (!this.w.push(TOKENS[tag]!, MAX_ENCODE_DEPTH)) {
      throw new ProtocolError("LIMIT_EXCEEDED", `elements nest deeper than ${MAX_ENCODE_DEPTH}`);
    }
  }

  close(): void {
    this.w.pop();
  }

  leaf(tag: number, text: string): void {
    const w = this.w;
    // A model that is not what its types say goes to the tree path, to fail as it fails there.
    if (typeof text !== "string") throw new TypeError("text expected");
    if (text === "") {
      w.close(w.open(TOKENS[tag]!));
    } else if (!w.leaf(TOKENS[tag]!, text)) {
      throw new ProtocolError(
        "WBXML_UNSUPPORTED",
        "text contains U+0000, which WBXML cannot carry",
      );
    }
  }

  bytes(tag: number, data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) throw new TypeError("bytes expected");
    const w = this.w;
    const at = w.open(TOKENS[tag]!);
    w.opaque(data);
    w.close(at);
  }

  empty(tag: number): void {
    const w = this.w;
    w.close(w.open(TOKENS[tag]!));
  }
}
