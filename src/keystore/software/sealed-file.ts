import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { KeystoreError } from "../errors.js";
import { isKid, isLabel, isOwner } from "../names.js";

/**
 * The sealed keystore file and its keys.
 *
 * Keys, all HKDF-SHA256 (RFC 5869) from the 32-byte master key, salt ASCII("dmguard keystore v1"):
 *
 *   file key     = HKDF(master, info = "file", 32)              AES-256-GCM key of the whole file
 *   journal key  = HKDF(master, info = "journal", 32)           of the journal's entries (journal.ts)
 *   check value  = HKDF(master, info = "check", 16)             tells a wrong master key from an edit
 *   KEK(owner)   = HKDF(master, info = "kek" ‖ 0x00 ‖ owner, 32)  one per tenant
 *
 * File layout (all of it authenticated):
 *
 *   MAGIC (8) ‖ check value (16) ‖ IV (12) ‖ AES-256-GCM(file key, JSON document) ‖ tag (16)
 *
 * with AAD = MAGIC ‖ check value. The JSON document lists the records; each record's secret is
 * sealed once more, AES-256-GCM under its owner's KEK, with AAD binding its type, owner, name and
 * metadata, so a record cannot be moved to another owner or name, and a key of one tenant can
 * only ever be opened with that tenant's KEK.
 */
export const SEALED_FILE_NAME = "keystore.sealed";
export const MAGIC = Buffer.from("DMGKS01\n", "ascii");
const CHECK_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + CHECK_BYTES;
const SALT = Buffer.from("dmguard keystore v1", "ascii");
const RECORD_AAD_LABEL = "dmguard keystore record v1";

export type RecordType = "sign" | "secret" | "device" | "transport";
const RECORD_TYPES: ReadonlySet<string> = new Set(["sign", "secret", "device", "transport"]);

/** One sealed key as stored: public fields in the clear (inside the file seal), secret sealed. */
export interface StoredRecord {
  /** type */
  t: RecordType;
  /** owner */
  o: string;
  /** name: a label, or a kid for device keys */
  n: string;
  /** public metadata, a JSON object as text (bound as AAD exactly as stored) */
  m: string;
  /** base64url IV of the record seal */
  iv: string;
  /** base64url ciphertext ‖ tag of the secret under KEK(owner) */
  ct: string;
}

export interface SealedDocument {
  v: 1;
  /** Counts writes; informational. */
  generation: number;
  records: StoredRecord[];
}

export class MasterKeys {
  readonly #master: KeyObject;
  readonly fileKey: KeyObject;
  readonly journalKey: KeyObject;
  readonly check: Buffer;
  readonly #keks = new Map<string, KeyObject>();

  constructor(master: Uint8Array) {
    this.#master = createSecretKey(master);
    this.fileKey = createSecretKey(this.#derive("file", 32));
    this.journalKey = createSecretKey(this.#derive("journal", 32));
    this.check = this.#derive("check", CHECK_BYTES);
  }

  #derive(info: string, length: number): Buffer {
    return Buffer.from(hkdfSync("sha256", this.#master, SALT, Buffer.from(info, "utf8"), length));
  }

  /** The owner's key-encryption key, derived once and cached. */
  kek(owner: string): KeyObject {
    let k = this.#keks.get(owner);
    if (!k) {
      k = createSecretKey(this.#derive(`kek\u0000${owner}`, 32));
      this.#keks.set(owner, k);
    }
    return k;
  }
}

function recordAad(t: string, o: string, n: string, m: string): Buffer {
  return Buffer.from(JSON.stringify([RECORD_AAD_LABEL, t, o, n, m]), "utf8");
}

export function sealRecord(
  keys: MasterKeys,
  t: RecordType,
  o: string,
  n: string,
  meta: object,
  secret: Uint8Array,
): StoredRecord {
  const m = JSON.stringify(meta);
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv("aes-256-gcm", keys.kek(o), iv);
  c.setAAD(recordAad(t, o, n, m));
  const ct = Buffer.concat([c.update(secret), c.final(), c.getAuthTag()]);
  return { t, o, n, m, iv: iv.toString("base64url"), ct: ct.toString("base64url") };
}

/** The secret of a record; a record that does not open is a corrupt file. */
export function openRecord(keys: MasterKeys, r: StoredRecord): Buffer {
  try {
    const ct = Buffer.from(r.ct, "base64url");
    const d = createDecipheriv("aes-256-gcm", keys.kek(r.o), Buffer.from(r.iv, "base64url"));
    d.setAAD(recordAad(r.t, r.o, r.n, r.m));
    d.setAuthTag(ct.subarray(ct.length - TAG_BYTES));
    return Buffer.concat([d.update(ct.subarray(0, ct.length - TAG_BYTES)), d.final()]);
  } catch {
    throw new KeystoreError(
      "SEALED_FILE_CORRUPT",
      `a sealed record (${r.t} ${r.n}) fails authentication`,
    );
  }
}

export function encodeSealedFile(keys: MasterKeys, doc: SealedDocument): Buffer {
  const header = Buffer.concat([MAGIC, keys.check]);
  const iv = randomBytes(IV_BYTES);
  const c = createCipheriv("aes-256-gcm", keys.fileKey, iv);
  c.setAAD(header);
  const body = Buffer.concat([c.update(JSON.stringify(doc), "utf8"), c.final()]);
  return Buffer.concat([header, iv, body, c.getAuthTag()]);
}

const corrupt = (why: string) =>
  new KeystoreError("SEALED_FILE_CORRUPT", `the sealed keystore file ${why}: refusing to open it`);

/** Opens and checks a sealed file. Throws `MASTER_KEY_WRONG` or `SEALED_FILE_CORRUPT`. */
export function decodeSealedFile(keys: MasterKeys, file: Buffer): SealedDocument {
  if (
    file.length < HEADER_BYTES + IV_BYTES + TAG_BYTES ||
    !file.subarray(0, MAGIC.length).equals(MAGIC)
  )
    throw corrupt("is not a dmguard keystore (bad header or truncated)");
  const header = file.subarray(0, HEADER_BYTES);
  if (!timingSafeEqual(header.subarray(MAGIC.length), keys.check))
    throw new KeystoreError(
      "MASTER_KEY_WRONG",
      "the sealed keystore file was sealed under another master key",
    );
  let text: string;
  try {
    const iv = file.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
    const d = createDecipheriv("aes-256-gcm", keys.fileKey, iv);
    d.setAAD(header);
    d.setAuthTag(file.subarray(file.length - TAG_BYTES));
    text = Buffer.concat([
      d.update(file.subarray(HEADER_BYTES + IV_BYTES, file.length - TAG_BYTES)),
      d.final(),
    ]).toString("utf8");
  } catch {
    throw corrupt("fails authentication (edited or truncated)");
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw corrupt("does not hold a keystore document");
  }
  if (!isDocument(doc)) throw corrupt("does not hold a valid keystore document");
  return doc;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

export function isStoredRecord(v: unknown): v is StoredRecord {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const r = v as Record<string, unknown>;
  if (Object.keys(r).length !== 6) return false;
  if (typeof r.t !== "string" || !RECORD_TYPES.has(r.t) || !isOwner(r.o)) return false;
  if (!(r.t === "device" ? isKid(r.n) : isLabel(r.n))) return false;
  if (typeof r.m !== "string" || typeof r.iv !== "string" || typeof r.ct !== "string") return false;
  if (!B64URL.test(r.iv) || !B64URL.test(r.ct)) return false;
  try {
    const m = JSON.parse(r.m) as unknown;
    return typeof m === "object" && m !== null && !Array.isArray(m);
  } catch {
    return false;
  }
}

function isDocument(v: unknown): v is SealedDocument {
  if (typeof v !== "object" || v === null) return false;
  const d = v as Record<string, unknown>;
  return (
    d.v === 1 &&
    Number.isSafeInteger(d.generation) &&
    Array.isArray(d.records) &&
    d.records.every(isStoredRecord)
  );
}
