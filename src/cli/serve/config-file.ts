/**
 * What the `serve` configuration files share (src/cli/README.md): one JSON object, unknown
 * fields refused, relative paths read from the file's folder (so a config and its files move
 * together), the common fields `dataDir`, `port`, `host`, `keystoreDir`, `db`, the OEM CA
 * certificate file, and the two nested shapes several configs have: a server to call
 * (`{ url, token | tokenFile }`) and a carrier's migration policy. Every problem is one line
 * naming the file and the field: a usage error (exit 2).
 */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { type MigrationPolicyInput, resolvePolicy } from "../../server-kit/migration-policy.js";
import { sqliteUrlFor } from "../../store/index.js";
import { CliError, ExitCode } from "../exit.js";
import { DEFAULT_HOST, DEFAULT_PORT, KEYSTORE_DIR } from "../stack/layout.js";
import { isStoreUrl, STORE_URL_RULE } from "./store-url.js";

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g;
const HTTP_URL = /^https?:\/\/[^\s]+$/;

export const isHttpUrl = (v: unknown): v is string => typeof v === "string" && HTTP_URL.test(v);
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const POLICY_FIELDS = [
  "subsidyLock",
  "terminatedMayPortOut",
] as const satisfies readonly (keyof MigrationPolicyInput)[];
const POLICY_SHAPE = '{ "subsidyLock": "…", "terminatedMayPortOut": true|false }';

/** What `ConfigFile.endpoint` checks besides the URL's form: the words its errors use. */
export interface EndpointSpec {
  /** What `url` must be, ending the error: "the carrier's http(s) base URL". */
  url: string;
  /** Whose token it is ("the carrier's custody token"); absent: the server takes no token. */
  token?: string;
  /** Fields the caller checks itself, allowed beside url, token and tokenFile. */
  more?: readonly string[];
}

/** The fields every served part's config has. */
export const COMMON_FIELDS = ["dataDir", "port", "host", "keystoreDir", "db"] as const;

export interface CommonConfig {
  dataDir: string;
  keystoreDir: string;
  port: number;
  host: string;
  db: string;
}

export class ConfigFile {
  readonly file: string;
  readonly c: Record<string, unknown>;
  readonly #base: string;

  private constructor(file: string, c: Record<string, unknown>) {
    this.file = file;
    this.c = c;
    this.#base = dirname(resolve(file));
  }

  /** Reads `file` and refuses any field not in `fields`. */
  static async read(file: string, fields: readonly string[]): Promise<ConfigFile> {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(file, "utf8"));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code)
        throw new CliError(`cannot read ${file}: ${code === "ENOENT" ? "no such file" : code}`);
      throw new CliError(`${file}: is not valid JSON`, ExitCode.USAGE);
    }
    const cfg = new ConfigFile(file, {});
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw cfg.bad("must hold one JSON object");
    }
    const c = raw as Record<string, unknown>;
    const unknown = Object.keys(c).find((k) => !fields.includes(k));
    if (unknown !== undefined) {
      throw cfg.bad(`unknown field "${unknown.slice(0, 40)}"; fields are ${fields.join(", ")}`);
    }
    return new ConfigFile(file, c);
  }

  bad(why: string): CliError {
    return new CliError(`${this.file}: ${why}`, ExitCode.USAGE);
  }

  path(v: string): string {
    return isAbsolute(v) ? v : join(this.#base, v);
  }

  str(k: string, required: true): string;
  str(k: string, required: false): string | undefined;
  str(k: string, required: boolean): string | undefined {
    const v = this.c[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string" || v === "") throw this.bad(`${k} must be a non-empty string`);
    return v;
  }

  url(k: string, required: boolean): string | undefined {
    const v = required ? this.str(k, true) : this.str(k, false);
    if (v !== undefined && !isHttpUrl(v)) throw this.bad(`${k} must be an http(s) URL`);
    return v;
  }

  /**
   * The value at a dotted field path (`migration.direct.acme`), undefined where a step is
   * missing. Keys in paths are field names or checked ids, which hold no dot.
   */
  at(path: string): unknown {
    let v: unknown = this.c;
    for (const k of path.split(".")) {
      if (!isObject(v) || !Object.hasOwn(v, k)) return undefined;
      v = v[k];
    }
    return v;
  }

  /**
   * A server to call at `path`: `{ "url": …, "token": T | "tokenFile": FILE }` (no token when
   * `spec.token` is absent), unknown fields refused. Undefined when the field is absent.
   */
  async endpoint(
    path: string,
    spec: EndpointSpec & { token: string },
  ): Promise<{ url: string; token: string } | undefined>;
  async endpoint(
    path: string,
    spec: EndpointSpec,
  ): Promise<{ url: string; token?: undefined } | undefined>;
  async endpoint(
    path: string,
    spec: EndpointSpec,
  ): Promise<{ url: string; token?: string } | undefined> {
    const o = this.at(path);
    if (o === undefined) return undefined;
    const fields = [
      ...(spec.more ?? []),
      "url",
      ...(spec.token === undefined ? [] : ["token", "tokenFile"]),
    ];
    if (!isObject(o)) {
      const shape = spec.token === undefined ? "" : ', "token" | "tokenFile": …';
      throw this.bad(`${path} must be an object: { "url": …${shape} }`);
    }
    const extra = Object.keys(o).find((k) => !fields.includes(k));
    if (extra !== undefined) {
      throw this.bad(
        `${path}: unknown field "${extra.slice(0, 40)}"; fields are ${fields.join(", ")}`,
      );
    }
    if (!isHttpUrl(o.url)) throw this.bad(`${path}.url must be ${spec.url}`);
    if (spec.token === undefined) return { url: o.url };
    return { url: o.url, token: await this.#token(o, path, spec.token) };
  }

  /**
   * A carrier's migration policy at `path` (src/server-kit/migration-policy.ts), checked as the
   * servers will read it, so a bad one stops the start rather than a later migration.
   * Undefined when the field is absent.
   */
  migrationPolicy(path: string): MigrationPolicyInput | undefined {
    const p = this.at(path);
    if (p === undefined) return undefined;
    const refuse = (why: string) => this.bad(`${path} must be ${POLICY_SHAPE}${why}`);
    if (!isObject(p)) throw refuse("");
    const extra = Object.keys(p).find((k) => !(POLICY_FIELDS as readonly string[]).includes(k));
    if (extra !== undefined) throw refuse(`: unknown field "${extra.slice(0, 40)}"`);
    const { subsidyLock, terminatedMayPortOut } = p;
    if (subsidyLock !== undefined && typeof subsidyLock !== "string") {
      throw refuse(": subsidyLock is not a string");
    }
    if (terminatedMayPortOut !== undefined && typeof terminatedMayPortOut !== "boolean") {
      throw refuse(": terminatedMayPortOut is not true or false");
    }
    const policy: MigrationPolicyInput = {
      ...(subsidyLock === undefined ? {} : { subsidyLock }),
      ...(terminatedMayPortOut === undefined ? {} : { terminatedMayPortOut }),
    };
    try {
      resolvePolicy(policy);
    } catch (err) {
      throw this.bad(`${path}: ${(err as Error).message}`);
    }
    return policy;
  }

  /**
   * The PEM certificates of the OEM CA file named by field `k` (PEM, or an `up` folder's
   * oem-ca.json, of which only the certificate is read).
   */
  async certificates(k: string): Promise<string[]> {
    const path = this.path(this.str(k, true));
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      throw new CliError(
        `${this.file}: cannot read ${k} ${path}: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
    if (text.trimStart().startsWith("{")) {
      // An `up` folder's oem-ca.json: take the certificate, never the private key beside it.
      try {
        const pem = (JSON.parse(text) as { certificatePem?: unknown }).certificatePem;
        if (typeof pem === "string") text = pem;
      } catch {
        throw this.bad(`${k} ${path} is neither PEM nor an oem-ca.json`);
      }
    }
    const pems = text.match(PEM_CERT) ?? [];
    if (pems.length === 0) throw this.bad(`${k} ${path} holds no PEM certificate`);
    return pems.map((p) => `${p}\n`);
  }

  /**
   * A secret given inline (`"token"`) or as a file (`"tokenFile"`, relative to the config's
   * folder; surrounding whitespace dropped) in the object `o` at `where`, non-empty. Errors name
   * the field and the file, never the secret. `what` says whose token it is in the error.
   */
  async #token(o: Record<string, unknown>, where: string, what: string): Promise<string> {
    if (o.token !== undefined && o.tokenFile !== undefined) {
      throw this.bad(`${where}: both "token" and "tokenFile" given; keep one`);
    }
    if (o.tokenFile === undefined) {
      if (typeof o.token !== "string" || o.token === "") {
        throw this.bad(`${where} needs ${what}: "token" or "tokenFile"`);
      }
      return o.token;
    }
    if (typeof o.tokenFile !== "string" || o.tokenFile === "") {
      throw this.bad(`${where}.tokenFile must be a non-empty string: the token file's path`);
    }
    const path = this.path(o.tokenFile);
    let token: string;
    try {
      token = (await readFile(path, "utf8")).trim();
    } catch (err) {
      throw this.bad(`${where}.tokenFile: ${(err as NodeJS.ErrnoException).code} (${path})`);
    }
    if (token === "") throw this.bad(`${where}.tokenFile ${path} holds no token`);
    return token;
  }

  common(): CommonConfig {
    const dataDir = this.path(this.str("dataDir", true));
    const port = this.c.port ?? DEFAULT_PORT;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65_535) {
      throw this.bad("port must be an integer 0-65535");
    }
    const db = this.str("db", false);
    if (db !== undefined && !isStoreUrl(db)) throw this.bad(`db ${STORE_URL_RULE}`);
    return {
      dataDir,
      keystoreDir: this.path(this.str("keystoreDir", false) ?? join(dataDir, KEYSTORE_DIR)),
      port,
      host: this.str("host", false) ?? DEFAULT_HOST,
      // A relative sqlite: path is the config folder's, like every other path here.
      db:
        db === undefined
          ? sqliteUrlFor(dataDir)
          : db.startsWith("sqlite:") && db !== "sqlite::memory:"
            ? `sqlite:${this.path(db.slice(7))}`
            : db,
    };
  }
}
