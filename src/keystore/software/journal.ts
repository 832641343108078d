import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from "node:crypto";
import { KeystoreError } from "../errors.js";
import { isKid, isLabel, isOwner } from "../names.js";
import {
  isStoredRecord,
  type MasterKeys,
  type RecordType,
  type StoredRecord,
} from "./sealed-file.js";

/**
 * The keystore's journal: the changes made since the sealed file (the snapshot) was last
 * written, so that a change costs one append and one fsync instead of rewriting every record.
 * When the journal outgrows the snapshot it is folded into a new snapshot (compaction), which
 * keeps the total bytes written per change bounded (amortised O(1)).
 *
 * Layout:
 *
 *   JMAGIC (8) ‖ check value (16) ‖ base generation (8, big-endian)
 *   then entries: length (4, big-endian) ‖ IV (12) ‖ AES-256-GCM(journal key, JSON change) ‖ tag
 *
 * journal key = HKDF(master, info = "journal", 32); each entry's AAD is the header, the entry's
 * index and its length, so entries cannot be reordered, dropped from the middle, or moved to a
 * journal of another snapshot. A change is `{ put: StoredRecord[], del: [type, owner, name][] }`;
 * its records' secrets are sealed under their owner's KEK as in the snapshot.
 *
 * The base generation names the snapshot the journal continues. A journal whose base is older
 * than the snapshot was already folded into it (a crash between writing the new snapshot and
 * removing the journal, or one that undid the removal) and is ignored; a newer one means a
 * snapshot was lost: refused. A missing journal is an empty one: compaction removes the journal
 * it folds in, and the first change after it writes a new header (vault.ts).
 *
 * Only the last entry may be torn (an append is acknowledged after its fsync, so a torn entry
 * was never acknowledged): an entry cut short, or zeros where the entry should start, is dropped.
 * Any other entry that fails authentication is an edit: SEALED_FILE_CORRUPT.
 */
export const JOURNAL_FILE_NAME = "keystore.journal";
export const JMAGIC = Buffer.from("DMGKJ01\n", "ascii");
const CHECK_BYTES = 16;
export const JOURNAL_HEADER_BYTES = JMAGIC.length + CHECK_BYTES + 8;
const LEN_BYTES = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** An entry larger than this is not one we wrote (a batch is at most a few thousand records). */
const MAX_ENTRY_BYTES = 256 * 1024 * 1024;

export interface JournalChange {
  put: StoredRecord[];
  del: Array<[RecordType, string, string]>;
}

export function journalHeader(keys: MasterKeys, baseGeneration: number): Buffer {
  const gen = Buffer.alloc(8);
  gen.writeBigUInt64BE(BigInt(baseGeneration));
  return Buffer.concat([JMAGIC, keys.check, gen]);
}

function entryAad(header: Buffer, index: number, length: number): Buffer {
  const tail = Buffer.alloc(8);
  tail.writeUInt32BE(index, 0);
  tail.writeUInt32BE(length, 4);
  return Buffer.concat([header, tail]);
}

/** The bytes to append for the `index`-th (0-based) change of the journal with `header`. */
export function encodeJournalEntry(
  keys: MasterKeys,
  header: Buffer,
  index: number,
  change: JournalChange,
): Buffer {
  const plain = Buffer.from(JSON.stringify(change), "utf8");
  const length = IV_BYTES + plain.length + TAG_BYTES;
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv("aes-256-gcm", keys.journalKey, iv);
  c.setAAD(entryAad(header, index, length));
  const body = Buffer.concat([c.update(plain), c.final()]);
  const len = Buffer.alloc(LEN_BYTES);
  len.writeUInt32BE(length);
  return Buffer.concat([len, iv, body, c.getAuthTag()]);
}

export interface DecodedJournal {
  baseGeneration: number;
  changes: JournalChange[];
  /** Bytes of the journal that hold whole entries: a torn tail past it is to be cut off. */
  validBytes: number;
}

const corrupt = (why: string) =>
  new KeystoreError("SEALED_FILE_CORRUPT", `the keystore journal ${why}: refusing to open it`);

/** Reads a journal. Throws `MASTER_KEY_WRONG` or `SEALED_FILE_CORRUPT`. */
export function decodeJournal(keys: MasterKeys, file: Buffer): DecodedJournal {
  if (file.length < JOURNAL_HEADER_BYTES || !file.subarray(0, JMAGIC.length).equals(JMAGIC))
    throw corrupt("is not a dmguard keystore journal (bad header or truncated)");
  const header = file.subarray(0, JOURNAL_HEADER_BYTES);
  if (!timingSafeEqual(header.subarray(JMAGIC.length, JMAGIC.length + CHECK_BYTES), keys.check))
    throw new KeystoreError(
      "MASTER_KEY_WRONG",
      "the keystore journal was sealed under another master key",
    );
  const base = header.readBigUInt64BE(JMAGIC.length + CHECK_BYTES);
  if (base > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt("names an impossible generation");
  const changes: JournalChange[] = [];
  let at = JOURNAL_HEADER_BYTES;
  while (at < file.length) {
    const rest = file.length - at;
    const length = rest >= LEN_BYTES ? file.readUInt32BE(at) : -1;
    const whole = length >= 0 && rest >= LEN_BYTES + length;
    const last = !whole || at + LEN_BYTES + length === file.length;
    if (!whole || length === 0) {
      // Cut short, or zeros where an entry should begin: an append the crash interrupted.
      if (isTornTail(file.subarray(at), whole)) break;
      throw corrupt(`has a damaged entry ${changes.length + 1}`);
    }
    if (length < IV_BYTES + TAG_BYTES || length > MAX_ENTRY_BYTES)
      throw corrupt(`has an entry ${changes.length + 1} of impossible length`);
    const entry = file.subarray(at + LEN_BYTES, at + LEN_BYTES + length);
    let plain: Buffer;
    try {
      const d = createDecipheriv("aes-256-gcm", keys.journalKey, entry.subarray(0, IV_BYTES));
      d.setAAD(entryAad(header, changes.length, length));
      d.setAuthTag(entry.subarray(entry.length - TAG_BYTES));
      plain = Buffer.concat([
        d.update(entry.subarray(IV_BYTES, entry.length - TAG_BYTES)),
        d.final(),
      ]);
    } catch {
      // The last entry is acknowledged only after its datasync and appends are serialised, so a
      // last entry that fails is an append a crash tore (length and IV written, the rest not):
      // dropped, like a tail cut short. An entry before the last cannot be torn: refused.
      if (last) break;
      throw corrupt(`entry ${changes.length + 1} fails authentication (edited)`);
    }
    const change = parseChange(plain);
    if (!change) throw corrupt(`entry ${changes.length + 1} does not hold a keystore change`);
    changes.push(change);
    at += LEN_BYTES + length;
  }
  return { baseGeneration: Number(base), changes, validBytes: at };
}

/** A tail shorter than its declared length, or all zeros from its start. */
function isTornTail(tail: Buffer, whole: boolean): boolean {
  return !whole || tail.every((b) => b === 0);
}

function parseChange(plain: Buffer): JournalChange | null {
  let v: unknown;
  try {
    v = JSON.parse(plain.toString("utf8"));
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const c = v as Record<string, unknown>;
  if (!Array.isArray(c.put) || !Array.isArray(c.del) || Object.keys(c).length !== 2) return null;
  if (!c.put.every(isStoredRecord)) return null;
  const dels = c.del as unknown[];
  for (const d of dels) {
    if (!Array.isArray(d) || d.length !== 3) return null;
    const [t, o, n] = d as unknown[];
    if (t !== "sign" && t !== "secret" && t !== "device" && t !== "transport") return null;
    if (!isOwner(o) || !(t === "device" ? isKid(n) : isLabel(n))) return null;
  }
  return c as unknown as JournalChange;
}
