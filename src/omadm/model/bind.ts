/**
 * The binding between the neutral element tree (what both codecs produce and consume) and the
 * typed SyncML DM message model: `toMessage` reads tolerantly, `fromMessage` writes DTD order.
 * The same binding also reads and writes WBXML tokens directly (cursor.ts, `MessageSink`).
 */
export { toMessage } from "./bind-read.js";
export { fromMessage } from "./bind-write.js";
