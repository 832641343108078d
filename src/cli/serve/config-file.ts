/**
 * What the `serve` configuration files share (src/cli/README.md): one JSON object, unknown
 * fields refused, relative paths read from the file's folder (so a config and its files move
 * together), the common fields `dataDir`, `port`, `host`, `keystoreDir`, `db`, and the OEM CA
 * certificate file. Every problem is one line naming the file: a usage error (exit 2).
 */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { sqliteUrlFor } from "../../store/index.js";
import { CliError, ExitCode } from "../exit.js";
import { DEFAULT_HOST, DEFAULT_PORT, KEYSTORE_DIR } from "../stack/layout.js";

const PEM_CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g;

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
    if (v !== undefined && !/^https?:\/\/[^\s]+$/.test(v))
      throw this.bad(`${k} must be an http(s) URL`);
    return v;
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
   * the field, never the secret. `what` says whose token it is in the error.
   */
  async token(o: Record<string, unknown>, where: string, what = "a token"): Promise<string> {
    let token = o.token;
    if (token === undefined && typeof o.tokenFile === "string") {
      try {
        token = (await readFile(this.path(o.tokenFile), "utf8")).trim();
      } catch (err) {
        throw this.bad(`${where}.tokenFile: ${(err as NodeJS.ErrnoException).code}`);
      }
    }
    if (typeof token !== "string" || token === "") {
      throw this.bad(`${where} needs ${what}: "token" or "tokenFile"`);
    }
    return token;
  }

  common(): CommonConfig {
    const dataDir = this.path(this.str("dataDir", true));
    const port = this.c.port ?? DEFAULT_PORT;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65_535) {
      throw this.bad("port must be an integer 0-65535");
    }
    const db = this.str("db", false);
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
