import {
  createHash,
  createHmac,
  createPrivateKey,
  createSecretKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  timingSafeEqual,
} from "node:crypto";
import { isAbsolute } from "node:path";
import { isKeystoreError, isKeystoreErrorCode, KeystoreError } from "../errors.js";
import {
  type CryptoKey,
  DEVICE_KEY_BYTES,
  type EcPublicJwk,
  hpkeSuite,
  importRecipientPublicKey,
  openDeviceKey,
  publicJwkFromBytes,
  recipientKeyBytes,
  sealDeviceKey,
  type WrappedKey,
} from "../hpke-suite.js";
import { OPERATOR_OWNER } from "../names.js";
import {
  type CreatedDeviceKey,
  type JwsHeader,
  KCV_BYTES,
  type SigningPublicJwk,
} from "../types.js";
import {
  type KeystoreReply,
  type KeystoreRequest,
  parseRequest,
  type RequestOf,
} from "./protocol.js";
import type { Draft, Vault } from "./vault.js";

const HMAC_BYTES = 32;
const TRANSPORT_LABEL = "transport";

interface SigningKey {
  privateKey: KeyObject;
  kid: string;
  /** base64url of the protected header `{"alg":"ES256","kid":…}` used when no extra header is given */
  defaultHeader: string;
}

interface DeviceKey {
  key: KeyObject;
  extractable: boolean;
  recipient: string | null;
}

const notFound = (owner: string, what: string, name: string) =>
  new KeystoreError("KEY_NOT_FOUND", `no ${what} ${name} for owner ${owner}`);

function now(): string {
  return new Date().toISOString();
}

/** RFC 7638 thumbprint of a P-256 public JWK. */
function thumbprint(jwk: EcPublicJwk): string {
  const canonical = `{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`;
  return createHash("sha256").update(canonical, "utf8").digest("base64url");
}

function fingerprint(raw: Uint8Array): string {
  return createHash("sha256").update(raw).digest("base64url");
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A P-256 SubjectPublicKeyInfo's DER is this long, and ends with the point `04 ‖ X ‖ Y`. */
const P256_SPKI_BYTES = 91;
const P256_POINT_BYTES = 65;

/**
 * Generates a P-256 key pair: its PKCS#8 private key (to seal) and public JWK. The generator
 * hands back DER, and the JWK is read off the SPKI's point: Node 20 deadlocks when a JWK
 * export of a freshly generated key object triggers a garbage collection that frees that key's
 * generator job (both take the key's mutex; reproduced in about 300,000 keys).
 */
function newEcKey(): { pkcs8: Buffer; jwk: EcPublicJwk } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", {
    namedCurve: "P-256",
    publicKeyEncoding: { type: "spki", format: "der" },
    privateKeyEncoding: { type: "pkcs8", format: "der" },
  });
  if (publicKey.length !== P256_SPKI_BYTES || publicKey[P256_SPKI_BYTES - P256_POINT_BYTES] !== 4) {
    throw new KeystoreError("INTERNAL", "internal keystore failure");
  }
  return { pkcs8: privateKey, jwk: publicJwkFromBytes(publicKey.subarray(-P256_POINT_BYTES)) };
}

function b64url(s: string): string {
  return Buffer.from(s, "utf8").toString("base64url");
}

/**
 * The keystore's operations inside its worker. Every request is validated (`parseRequest`)
 * before anything happens; every answer is a result or `{ code, message }` from constants and
 * public names. Results carry public keys, MACs, booleans and wrapped blobs only.
 */
export class KeystoreService {
  #vault: Vault | null = null;
  #opening = false;
  #closed = false;
  readonly #openVault: (dir: string, masterKeyFile: string) => Promise<Vault>;

  constructor(openVault: (dir: string, masterKeyFile: string) => Promise<Vault>) {
    this.#openVault = openVault;
  }

  async handle(raw: unknown): Promise<KeystoreReply> {
    try {
      const req = parseRequest(raw);
      return { ok: true, result: await this.#dispatch(req) };
    } catch (err) {
      if (isKeystoreError(err) && isKeystoreErrorCode(err.code))
        return { ok: false, error: { code: err.code, message: err.message } };
      return { ok: false, error: { code: "INTERNAL", message: "internal keystore failure" } };
    }
  }

  #vaultOrThrow(): Vault {
    if (this.#closed || !this.#vault)
      throw new KeystoreError(
        "KEYSTORE_CLOSED",
        this.#closed ? "the keystore is closed" : "the keystore is not open",
      );
    return this.#vault;
  }

  async #dispatch(req: KeystoreRequest): Promise<unknown> {
    switch (req.op) {
      case "open":
        return this.#open(req);
      case "close":
        return this.#close();
      case "ensureSigningKey":
        return this.#ensureSigningKey(req);
      case "signJws":
        return this.#signJws(req);
      case "ensureSecretKey":
        return this.#ensureSecretKey(req);
      case "hmac":
        return this.#hmac(req.owner, req.label, req.data);
      case "verifyHmac":
        return constantTimeEqual(this.#hmac(req.owner, req.label, req.data), req.mac);
      case "createDeviceKey":
        return this.#createDeviceKey(req);
      case "verifyKeyProof":
        return this.#verifyKeyProof(req);
      case "keyCheckValue":
        return this.#keyCheckValue(req);
      case "wrapDeviceKey":
        return this.#wrapDeviceKey(req);
      case "importDeviceKey":
        return this.#importDeviceKey(req);
      case "destroyKey":
        return this.#destroyKey(req);
      case "transportPublicKey":
        return publicJwkFromBytes(await this.#transportPublic());
    }
  }

  async #open(req: RequestOf<"open">): Promise<null> {
    if (this.#vault || this.#opening || this.#closed)
      throw new KeystoreError("BAD_REQUEST", "open: the keystore is already open");
    if (!isAbsolute(req.dir) || !isAbsolute(req.masterKeyFile))
      throw new KeystoreError("BAD_REQUEST", "open: paths must be absolute");
    this.#opening = true;
    try {
      this.#vault = await this.#openVault(req.dir, req.masterKeyFile);
    } finally {
      this.#opening = false;
    }
    return null;
  }

  async #close(): Promise<null> {
    const v = this.#vault;
    this.#closed = true;
    this.#vault = null;
    await v?.close();
    return null;
  }

  // Signing keys ------------------------------------------------------------------------------

  #signingPublic(meta: Record<string, unknown>): SigningPublicJwk {
    return {
      kty: "EC",
      crv: "P-256",
      x: meta.x as string,
      y: meta.y as string,
      kid: meta.kid as string,
      alg: "ES256",
      use: "sig",
    };
  }

  async #ensureSigningKey(req: RequestOf<"ensureSigningKey">): Promise<SigningPublicJwk> {
    const vault = this.#vaultOrThrow();
    const have = vault.get("sign", req.owner, req.label);
    if (have) return this.#signingPublic(have.meta);
    const { pkcs8, jwk } = newEcKey();
    try {
      const r = await vault.mutate((d) => {
        const existing = d.get("sign", req.owner, req.label);
        if (existing) return existing;
        const meta = { created: now(), x: jwk.x, y: jwk.y, kid: thumbprint(jwk) };
        return d.put("sign", req.owner, req.label, meta, pkcs8);
      });
      return this.#signingPublic(r.meta);
    } finally {
      pkcs8.fill(0);
    }
  }

  #signingKey(owner: string, label: string): SigningKey {
    const k = this.#vaultOrThrow().key("sign", owner, label, (secret, r) => {
      const kid = r.meta.kid as string;
      return {
        privateKey: createPrivateKey({ key: secret, format: "der", type: "pkcs8" }),
        kid,
        defaultHeader: b64url(JSON.stringify({ alg: "ES256", kid })),
      };
    });
    if (!k) throw notFound(owner, "signing key", label);
    return k;
  }

  /** RFC 7515 §5.1 compact serialization; ES256 per RFC 7518 §3.4 (R ‖ S, 64 bytes). */
  #signJws(req: RequestOf<"signJws">): string {
    const k = this.#signingKey(req.owner, req.label);
    const protectedHeader =
      req.header === null || Object.keys(req.header).length === 0
        ? k.defaultHeader
        : b64url(JSON.stringify({ alg: "ES256", kid: k.kid, ...(req.header as JwsHeader) }));
    const input = `${protectedHeader}.${Buffer.from(req.payload).toString("base64url")}`;
    const sig = sign("sha256", Buffer.from(input, "ascii"), {
      key: k.privateKey,
      dsaEncoding: "ieee-p1363",
    });
    return `${input}.${sig.toString("base64url")}`;
  }

  // Secret keys -------------------------------------------------------------------------------

  async #ensureSecretKey(req: RequestOf<"ensureSecretKey">): Promise<null> {
    const vault = this.#vaultOrThrow();
    if (vault.get("secret", req.owner, req.label)) return null;
    const secret = randomBytes(32);
    try {
      await vault.mutate((d) => {
        if (!d.get("secret", req.owner, req.label))
          d.put("secret", req.owner, req.label, { created: now() }, secret);
      });
    } finally {
      secret.fill(0);
    }
    return null;
  }

  #hmac(owner: string, label: string, data: Uint8Array): Uint8Array {
    const key = this.#vaultOrThrow().key("secret", owner, label, (s) => createSecretKey(s));
    if (!key) throw notFound(owner, "secret key", label);
    return new Uint8Array(createHmac("sha256", key).update(data).digest());
  }

  // Device keys -------------------------------------------------------------------------------

  #deviceKey(owner: string, kid: string): DeviceKey {
    const k = this.#vaultOrThrow().key("device", owner, kid, (secret, r) => ({
      key: createSecretKey(secret),
      extractable: r.meta.extractable === true,
      recipient: typeof r.meta.recipient === "string" ? r.meta.recipient : null,
    }));
    if (!k) throw notFound(owner, "device key", kid);
    return k;
  }

  async #createDeviceKey(req: RequestOf<"createDeviceKey">): Promise<CreatedDeviceKey> {
    const vault = this.#vaultOrThrow();
    const raw = recipientKeyBytes(req.recipient);
    const recipient = await importRecipientPublicKey(raw);
    const recipientId = fingerprint(raw);
    // The custody recipient is remembered (by fingerprint) so a retry cannot name another one:
    // otherwise "retry with a new custody key" would extract a non-extractable key.
    const custodyRaw = req.custody === null ? null : recipientKeyBytes(req.custody);
    const custody = custodyRaw === null ? null : await importRecipientPublicKey(custodyRaw);
    const custodyId = custodyRaw === null ? null : fingerprint(custodyRaw);
    const kid = req.kid ?? randomBytes(16).toString("hex");
    const secret = randomBytes(DEVICE_KEY_BYTES);
    try {
      // Wrap before committing, so nothing can fail between "durable" and "returned".
      const wrapped = await sealDeviceKey(recipient, req.owner, kid, secret);
      const custodyWrapped =
        custody === null ? null : await sealDeviceKey(custody, req.owner, kid, secret);
      const created = await vault.mutate((d) => {
        const existing = d.get("device", req.owner, kid);
        if (existing) {
          if (
            existing.meta.recipient !== recipientId ||
            (existing.meta.custody ?? null) !== custodyId
          )
            throw new KeystoreError(
              "KEY_EXISTS",
              `device key ${kid} of owner ${req.owner} was made for another recipient`,
            );
          return false;
        }
        const meta = {
          created: now(),
          recipient: recipientId,
          extractable: req.extractable,
          ...(custodyId === null ? {} : { custody: custodyId }),
        };
        d.put("device", req.owner, kid, meta, secret);
        return true;
      });
      if (created) {
        return { kid, wrapped, ...(custodyWrapped === null ? {} : { custodyWrapped }) };
      }
      // An idempotent retry: the same key, wrapped afresh to the same recipient(s).
      return {
        kid,
        wrapped: await this.#wrapExisting(req.owner, kid, recipient),
        ...(custody === null
          ? {}
          : { custodyWrapped: await this.#wrapExisting(req.owner, kid, custody) }),
      };
    } finally {
      secret.fill(0);
    }
  }

  async #wrapExisting(owner: string, kid: string, recipient: CryptoKey): Promise<WrappedKey> {
    const secret = this.#deviceKey(owner, kid).key.export();
    try {
      return await sealDeviceKey(recipient, owner, kid, secret);
    } finally {
      secret.fill(0);
    }
  }

  #verifyKeyProof(req: RequestOf<"verifyKeyProof">): boolean {
    const k = this.#deviceKey(req.owner, req.kid);
    const mac = createHmac("sha256", k.key).update(req.message).digest();
    return req.mac.length === HMAC_BYTES && timingSafeEqual(mac, req.mac);
  }

  /** HMAC-SHA256(key, UTF-8(label) ‖ 0x00 ‖ UTF-8(kid)), first 16 bytes. */
  #keyCheckValue(req: RequestOf<"keyCheckValue">): Uint8Array {
    const k = this.#deviceKey(req.owner, req.kid);
    const mac = createHmac("sha256", k.key)
      .update(req.label, "utf8")
      .update(Uint8Array.of(0))
      .update(req.kid, "utf8")
      .digest();
    return new Uint8Array(mac.subarray(0, KCV_BYTES));
  }

  async #wrapDeviceKey(req: RequestOf<"wrapDeviceKey">): Promise<WrappedKey> {
    const k = this.#deviceKey(req.owner, req.kid);
    if (!k.extractable)
      throw new KeystoreError(
        "KEY_NOT_EXTRACTABLE",
        `device key ${req.kid} of owner ${req.owner} is not extractable`,
      );
    return this.#wrapExisting(req.owner, req.kid, await importRecipientPublicKey(req.recipient));
  }

  /** The transport key's private half as an HPKE recipient key, imported once. */
  async #transportRecipient(): Promise<CryptoKey> {
    await this.#transportPublic();
    const k = this.#vaultOrThrow().key("transport", OPERATOR_OWNER, TRANSPORT_LABEL, (secret) => {
      const jwk = createPrivateKey({ key: secret, format: "der", type: "pkcs8" }).export({
        format: "jwk",
      });
      return hpkeSuite().kem.importKey("jwk", jwk as never, false) as Promise<CryptoKey>;
    });
    if (!k) throw new KeystoreError("INTERNAL", "internal keystore failure");
    return k;
  }

  async #importDeviceKey(req: RequestOf<"importDeviceKey">): Promise<{ kid: string }> {
    const vault = this.#vaultOrThrow();
    const w = req.wrapped;
    if (w.owner !== req.owner)
      throw new KeystoreError(
        "BAD_REQUEST",
        `importDeviceKey: the wrapped key is not for owner ${req.owner}`,
      );
    const secret = Buffer.from(await openDeviceKey(await this.#transportRecipient(), w));
    try {
      await vault.mutate((d) => {
        const existing = d.get("device", req.owner, w.kid);
        if (existing) {
          const have = d.open(existing);
          const same = constantTimeEqual(have, secret);
          have.fill(0);
          if (!same)
            throw new KeystoreError(
              "KEY_EXISTS",
              `device key ${w.kid} of owner ${req.owner} already holds another key`,
            );
          return;
        }
        const meta = { created: now(), recipient: null, extractable: false };
        d.put("device", req.owner, w.kid, meta, secret);
      });
    } finally {
      secret.fill(0);
    }
    return { kid: w.kid };
  }

  async #destroyKey(req: RequestOf<"destroyKey">): Promise<null> {
    const vault = this.#vaultOrThrow();
    await vault.mutate((d: Draft) => {
      if (!d.get("device", req.owner, req.kid)) throw notFound(req.owner, "device key", req.kid);
      d.delete("device", req.owner, req.kid);
    });
    return null;
  }

  // Transport key (receiving keys from other keystores) -----------------------------------------

  /** The transport key's public point, creating the key on first use. */
  async #transportPublic(): Promise<Uint8Array> {
    const vault = this.#vaultOrThrow();
    let r = vault.get("transport", OPERATOR_OWNER, TRANSPORT_LABEL);
    if (!r) {
      const { pkcs8, jwk } = newEcKey();
      try {
        r = await vault.mutate((d) => {
          const existing = d.get("transport", OPERATOR_OWNER, TRANSPORT_LABEL);
          if (existing) return existing;
          return d.put(
            "transport",
            OPERATOR_OWNER,
            TRANSPORT_LABEL,
            { created: now(), x: jwk.x, y: jwk.y },
            pkcs8,
          );
        });
      } finally {
        pkcs8.fill(0);
      }
    }
    return recipientKeyBytes({
      kty: "EC",
      crv: "P-256",
      x: r.meta.x as string,
      y: r.meta.y as string,
    });
  }
}
