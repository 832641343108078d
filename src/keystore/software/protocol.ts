import { KeystoreError } from "../errors.js";
import { isWrappedKey, type RecipientPublicKey, type WrappedKey } from "../hpke-suite.js";
import { isKcvLabel, isKid, isLabel, isOwner } from "../names.js";
import type { JwsHeader } from "../types.js";

/**
 * The message API of the keystore worker: the only way into it. The main thread sends
 * `{ id, req }`, the worker answers `{ id, reply }`. Every `req` is validated on arrival
 * (`parseRequest`) whatever its static type: a malformed one is answered `BAD_REQUEST` and
 * changes nothing.
 */
export type KeystoreRequest =
  | { op: "open"; dir: string; masterKeyFile: string }
  | { op: "close" }
  | { op: "ensureSigningKey"; owner: string; label: string }
  | { op: "signJws"; owner: string; label: string; payload: Uint8Array; header: JwsHeader | null }
  | { op: "ensureSecretKey"; owner: string; label: string }
  | { op: "hmac"; owner: string; label: string; data: Uint8Array }
  | { op: "verifyHmac"; owner: string; label: string; data: Uint8Array; mac: Uint8Array }
  | {
      op: "createDeviceKey";
      owner: string;
      recipient: RecipientPublicKey;
      kid: string | null;
      extractable: boolean;
      custody: RecipientPublicKey | null;
    }
  | { op: "verifyKeyProof"; owner: string; kid: string; message: Uint8Array; mac: Uint8Array }
  | { op: "keyCheckValue"; owner: string; kid: string; label: string }
  | { op: "wrapDeviceKey"; owner: string; kid: string; recipient: RecipientPublicKey }
  | { op: "importDeviceKey"; owner: string; wrapped: WrappedKey }
  | { op: "destroyKey"; owner: string; kid: string }
  | { op: "transportPublicKey" };

export type KeystoreOp = KeystoreRequest["op"];
export type RequestOf<Op extends KeystoreOp> = Extract<KeystoreRequest, { op: Op }>;

export interface KeystoreEnvelope {
  id: number;
  req: unknown;
}

export type KeystoreReply =
  | { ok: true; result: unknown }
  | { ok: false; error: { code: string; message: string } };

export interface KeystoreReplyEnvelope {
  id: number;
  reply: KeystoreReply;
}

/** Bounds on byte arguments: a JWS payload, HMAC data or proof message up to 1 MiB. */
export const MAX_DATA_BYTES = 1 << 20;
const MAX_MAC_BYTES = 64;
const MAX_PATH_CHARS = 4096;
const MAX_HEADER_JSON = 4096;

/** Header parameters the keystore sets or does not implement. */
const RESERVED_HEADER = new Set(["alg", "kid", "crit", "b64", "jwk", "jku", "x5u", "x5c"]);

type Check = (v: unknown) => boolean;

const path: Check = (v) => typeof v === "string" && v.length > 0 && v.length <= MAX_PATH_CHARS;
const data: Check = (v) => v instanceof Uint8Array && v.length <= MAX_DATA_BYTES;
const mac: Check = (v) => v instanceof Uint8Array && v.length <= MAX_MAC_BYTES;
const bool: Check = (v) => typeof v === "boolean";
const kidOrNull: Check = (v) => v === null || isKid(v);
/** Shape only; the worker checks the point itself (RECIPIENT_KEY_INVALID). */
const recipient: Check = (v) =>
  v instanceof Uint8Array || (typeof v === "object" && v !== null && !Array.isArray(v));

/** Plain JSON: strings, finite numbers, booleans, null, arrays and plain objects, depth ≤ 8. */
function isJson(v: unknown, depth = 0): boolean {
  if (v === null || typeof v === "string" || typeof v === "boolean") return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (depth >= 8 || typeof v !== "object") return false;
  if (Array.isArray(v)) return v.every((x) => isJson(x, depth + 1));
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  return Object.values(v).every((x) => isJson(x, depth + 1));
}

function header(v: unknown): boolean {
  if (v === null) return true;
  if (typeof v !== "object" || Array.isArray(v) || !isJson(v)) return false;
  for (const k of Object.keys(v)) if (RESERVED_HEADER.has(k)) return false;
  return JSON.stringify(v).length <= MAX_HEADER_JSON;
}

const SCHEMAS: { [Op in KeystoreOp]: Record<Exclude<keyof RequestOf<Op>, "op">, Check> } = {
  open: { dir: path, masterKeyFile: path },
  close: {},
  ensureSigningKey: { owner: isOwner, label: isLabel },
  signJws: { owner: isOwner, label: isLabel, payload: data, header },
  ensureSecretKey: { owner: isOwner, label: isLabel },
  hmac: { owner: isOwner, label: isLabel, data },
  verifyHmac: { owner: isOwner, label: isLabel, data, mac },
  createDeviceKey: {
    owner: isOwner,
    recipient,
    kid: kidOrNull,
    extractable: bool,
    custody: (v) => v === null || recipient(v),
  },
  verifyKeyProof: { owner: isOwner, kid: isKid, message: data, mac },
  keyCheckValue: { owner: isOwner, kid: isKid, label: isKcvLabel },
  wrapDeviceKey: { owner: isOwner, kid: isKid, recipient },
  importDeviceKey: { owner: isOwner, wrapped: isWrappedKey },
  destroyKey: { owner: isOwner, kid: isKid },
  transportPublicKey: {},
};

/**
 * Validates an untrusted request: a known `op`, exactly its fields, each of its type and within
 * its bounds. Throws `BAD_REQUEST` naming the first bad field (never echoing its value).
 */
export function parseRequest(req: unknown): KeystoreRequest {
  if (typeof req !== "object" || req === null || Array.isArray(req))
    throw new KeystoreError("BAD_REQUEST", "a keystore request must be an object");
  const r = req as Record<string, unknown>;
  const op = r.op;
  if (typeof op !== "string" || !Object.hasOwn(SCHEMAS, op))
    throw new KeystoreError("BAD_REQUEST", "unknown keystore operation");
  const schema = SCHEMAS[op as KeystoreOp] as Record<string, Check>;
  for (const k of Object.keys(r))
    if (k !== "op" && !Object.hasOwn(schema, k))
      throw new KeystoreError(
        "BAD_REQUEST",
        `${op}: unexpected field ${JSON.stringify(k.slice(0, 40))}`,
      );
  for (const [k, check] of Object.entries(schema))
    if (!Object.hasOwn(r, k) || !check(r[k]))
      throw new KeystoreError("BAD_REQUEST", `${op}: field ${k} is missing or invalid`);
  return r as KeystoreRequest;
}
