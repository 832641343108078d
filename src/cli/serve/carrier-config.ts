/**
 * The configuration file of `dmguard serve carrier --config FILE` (documented in
 * src/cli/README.md): one JSON object. Relative paths are read from the file's folder, so a
 * config and its files move together.
 *
 *   carrier           required  the carrier id (`acme`): routes under /carriers/acme/
 *   dataDir           required  stack.json and credentials.json (admin token, 0600) go here
 *   oemCaCertificate  required  PEM file of the OEM CA certificate(s) devices chain to, or an
 *                               `up` folder's oem-ca.json (only its certificate is read)
 *   port              8080      0 = any free port
 *   host              127.0.0.1
 *   keystoreDir       <dataDir>/keystore
 *   db                sqlite:<dataDir>/dmguard.sqlite   or postgres://…; --db overrides
 *   publicUrl         from each request's Host header   the URL devices reach this server at
 *   profile           defaults from the carrier id      ProfileConfig fields (PROFILE_MO.md)
 *   platform          none                              { "url": the platform's base URL
 *                                                       (…/platform), "token": T | "tokenFile":
 *                                                       FILE (the carrier's custody token) }:
 *                                                       block, unblock, terminate and first
 *                                                       approvals are synced to its custody
 *   migration         none                              { "direct": { A: { "url": A's server
 *                                                       base URL, "token" | "tokenFile": the
 *                                                       peer token A issued } }, "peers": { A:
 *                                                       base URL for port-out notices },
 *                                                       "policy": { "subsidyLock": …,
 *                                                       "terminatedMayPortOut": … } }
 *                                                       (src/carrier/README.md "Migration")
 */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { CARRIER_ID_PATTERN, type ProfileConfig } from "../../carrier/index.js";
import { type MigrationPolicyInput, resolvePolicy } from "../../server-kit/migration-policy.js";
import { sqliteUrlFor } from "../../store/index.js";
import { CliError, ExitCode } from "../exit.js";
import { DEFAULT_HOST, DEFAULT_PORT, KEYSTORE_DIR } from "../stack/layout.js";

export interface CarrierServeConfig {
  carrier: string;
  dataDir: string;
  keystoreDir: string;
  oemCaCertificatePems: string[];
  port: number;
  host: string;
  db: string;
  publicUrl?: string;
  profile?: Partial<ProfileConfig>;
  platform?: { url: string; token: string };
  migration?: CarrierMigrationConfig;
}

/** The `migration` field, checked (src/carrier/migration/options.ts says what each does). */
export interface CarrierMigrationConfig {
  direct?: Record<string, { url: string; token: string }>;
  peers?: Record<string, string>;
  policy?: MigrationPolicyInput;
}

const FIELDS = [
  "carrier",
  "dataDir",
  "oemCaCertificate",
  "port",
  "host",
  "keystoreDir",
  "db",
  "publicUrl",
  "profile",
  "platform",
  "migration",
] as const;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g;

function bad(file: string, why: string): CliError {
  return new CliError(`${file}: ${why}`, ExitCode.USAGE);
}

/** The PEM certificates of an OEM CA file (PEM, or an `up` folder's oem-ca.json). */
export async function certificates(path: string, file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new CliError(
      `${file}: cannot read oemCaCertificate ${path}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
  if (text.trimStart().startsWith("{")) {
    // An `up` folder's oem-ca.json: take the certificate, never the private key beside it.
    try {
      const pem = (JSON.parse(text) as { certificatePem?: unknown }).certificatePem;
      if (typeof pem === "string") text = pem;
    } catch {
      throw bad(file, `oemCaCertificate ${path} is neither PEM nor an oem-ca.json`);
    }
  }
  const pems = text.match(PEM_CERT) ?? [];
  if (pems.length === 0) throw bad(file, `oemCaCertificate ${path} holds no PEM certificate`);
  return pems.map((p) => `${p}\n`);
}

export async function readCarrierConfig(file: string): Promise<CarrierServeConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code)
      throw new CliError(`cannot read ${file}: ${code === "ENOENT" ? "no such file" : code}`);
    throw bad(file, "is not valid JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw bad(file, "must hold one JSON object");
  }
  const c = raw as Record<string, unknown>;
  const unknown = Object.keys(c).find((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown !== undefined) {
    throw bad(file, `unknown field "${unknown.slice(0, 40)}"; fields are ${FIELDS.join(", ")}`);
  }
  const base = dirname(resolve(file));
  const path = (v: string) => (isAbsolute(v) ? v : join(base, v));
  const str = (k: (typeof FIELDS)[number], required: boolean): string | undefined => {
    const v = c[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string" || v === "") throw bad(file, `${k} must be a non-empty string`);
    return v;
  };
  const carrier = str("carrier", true)!;
  if (!CARRIER_ID_PATTERN.test(carrier)) {
    throw bad(file, "carrier must be 1-32 lowercase letters, digits and dashes");
  }
  const dataDir = path(str("dataDir", true)!);
  const port = c.port ?? DEFAULT_PORT;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw bad(file, "port must be an integer 0-65535");
  }
  const db = str("db", false);
  const publicUrl = str("publicUrl", false);
  if (publicUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(publicUrl)) {
    throw bad(file, "publicUrl must be an http(s) URL");
  }
  const profile = c.profile;
  if (profile !== undefined && (typeof profile !== "object" || profile === null)) {
    throw bad(file, "profile must be an object");
  }
  const platform = await platformOf(c.platform, file, path);
  const migration = await migrationOf(c.migration, carrier, file, path);
  return {
    carrier,
    dataDir,
    keystoreDir: path(str("keystoreDir", false) ?? join(dataDir, KEYSTORE_DIR)),
    oemCaCertificatePems: await certificates(path(str("oemCaCertificate", true)!), file),
    port,
    host: str("host", false) ?? DEFAULT_HOST,
    // A relative sqlite: path is the config folder's, like every other path here.
    db:
      db === undefined
        ? sqliteUrlFor(dataDir)
        : db.startsWith("sqlite:") && db !== "sqlite::memory:"
          ? `sqlite:${path(db.slice(7))}`
          : db,
    ...(publicUrl === undefined ? {} : { publicUrl }),
    ...(profile === undefined ? {} : { profile: profile as Partial<ProfileConfig> }),
    ...(platform === undefined ? {} : { platform }),
    ...(migration === undefined ? {} : { migration }),
  };
}

const HTTP_URL = /^https?:\/\/[^\s]+$/;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A token given inline or in a file (relative to the config's folder), non-empty. */
async function tokenOf(
  o: Record<string, unknown>,
  where: string,
  file: string,
  path: (p: string) => string,
): Promise<string> {
  let token = o.token;
  if (token === undefined && typeof o.tokenFile === "string") {
    try {
      token = (await readFile(path(o.tokenFile), "utf8")).trim();
    } catch (err) {
      throw bad(file, `${where}.tokenFile: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
  if (typeof token !== "string" || token === "") {
    throw bad(file, `${where} needs a token: "token" or "tokenFile"`);
  }
  return token;
}

/** Carrier ids as keys of `where`, never this carrier's own. */
function peerIds(o: Record<string, unknown>, where: string, self: string, file: string): string[] {
  const ids = Object.keys(o);
  for (const id of ids) {
    if (!CARRIER_ID_PATTERN.test(id)) {
      throw bad(file, `${where}: "${id.slice(0, 40)}" is not a carrier id`);
    }
    if (id === self) throw bad(file, `${where}: ${id} is this carrier itself`);
  }
  return ids;
}

async function migrationOf(
  v: unknown,
  self: string,
  file: string,
  path: (p: string) => string,
): Promise<CarrierMigrationConfig | undefined> {
  if (v === undefined) return undefined;
  if (!isObject(v)) {
    throw bad(file, 'migration must be an object: { "direct"?, "peers"?, "policy"? }');
  }
  const extra = Object.keys(v).find((k) => !["direct", "peers", "policy"].includes(k));
  if (extra !== undefined) {
    throw bad(
      file,
      `migration: unknown field "${extra.slice(0, 40)}"; fields are direct, peers, policy`,
    );
  }
  const out: CarrierMigrationConfig = {};
  if (v.direct !== undefined) {
    if (!isObject(v.direct)) {
      throw bad(file, "migration.direct must be an object of carrier id → { url, token }");
    }
    out.direct = {};
    for (const id of peerIds(v.direct, "migration.direct", self, file)) {
      const o = v.direct[id];
      const where = `migration.direct.${id}`;
      if (!isObject(o)) throw bad(file, `${where} must be { "url": …, "token" | "tokenFile": … }`);
      const unknownKey = Object.keys(o).find((k) => !["url", "token", "tokenFile"].includes(k));
      if (unknownKey !== undefined) {
        throw bad(file, `${where}: unknown field "${unknownKey.slice(0, 40)}"`);
      }
      if (typeof o.url !== "string" || !HTTP_URL.test(o.url)) {
        throw bad(file, `${where}.url must be the carrier's http(s) base URL`);
      }
      out.direct[id] = { url: o.url, token: await tokenOf(o, where, file, path) };
    }
  }
  if (v.peers !== undefined) {
    if (!isObject(v.peers))
      throw bad(file, "migration.peers must be an object of carrier id → URL");
    out.peers = {};
    for (const id of peerIds(v.peers, "migration.peers", self, file)) {
      const url = v.peers[id];
      if (typeof url !== "string" || !HTTP_URL.test(url)) {
        throw bad(file, `migration.peers.${id} must be the carrier's http(s) base URL`);
      }
      out.peers[id] = url;
    }
  }
  if (v.policy !== undefined) {
    const p = v.policy;
    if (
      !isObject(p) ||
      Object.keys(p).some((k) => k !== "subsidyLock" && k !== "terminatedMayPortOut") ||
      (p.subsidyLock !== undefined && typeof p.subsidyLock !== "string") ||
      (p.terminatedMayPortOut !== undefined && typeof p.terminatedMayPortOut !== "boolean")
    ) {
      throw bad(
        file,
        'migration.policy must be { "subsidyLock": "…", "terminatedMayPortOut": true|false }',
      );
    }
    try {
      resolvePolicy(p as MigrationPolicyInput);
    } catch (err) {
      throw bad(file, `migration.policy: ${(err as Error).message}`);
    }
    out.policy = p as MigrationPolicyInput;
  }
  return out;
}

/** The platform this carrier syncs its custody records to, with its token (inline or a file). */
async function platformOf(
  v: unknown,
  file: string,
  path: (p: string) => string,
): Promise<{ url: string; token: string } | undefined> {
  if (v === undefined) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw bad(file, 'platform must be an object: { "url": …, "token" | "tokenFile": … }');
  }
  const extra = Object.keys(o).find((k) => !["url", "token", "tokenFile"].includes(k));
  if (extra !== undefined) throw bad(file, `platform: unknown field "${extra.slice(0, 40)}"`);
  if (typeof o.url !== "string" || !/^https?:\/\/[^\s]+$/.test(o.url)) {
    throw bad(file, "platform.url must be the platform's http(s) base URL (…/platform)");
  }
  let token = o.token;
  if (token === undefined && typeof o.tokenFile === "string") {
    try {
      token = (await readFile(path(o.tokenFile), "utf8")).trim();
    } catch (err) {
      throw bad(file, `platform.tokenFile: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
  if (typeof token !== "string" || token === "") {
    throw bad(file, 'platform needs the carrier\'s custody token: "token" or "tokenFile"');
  }
  return { url: o.url, token };
}
