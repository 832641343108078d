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
