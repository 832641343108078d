/**
 * stack.json and credentials.json: written by `up` (and `serve`), read by every command that
 * takes `--stack DIR`. Reading checks the shape, so a hand-edited or foreign file gives one
 * clear line instead of a TypeError later.
 */
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CliError } from "../exit.js";
import { CREDENTIALS_FILE, STACK_FILE, STACK_FORMAT } from "./layout.js";

export type PartKind = "carrier" | "platform" | "enterprise";

/** One part the stack serves, as stack.json lists it. */
export interface PartEntry {
  kind: PartKind;
  /** `acme`; `platform` for the platform. */
  id: string;
  /** The part's base URL (`…/carriers/acme`). */
  url: string;
}

export interface StackInfo {
  version: typeof STACK_FORMAT;
  /** What wrote the file: `up` (the whole stack) or `serve` (one part alone). */
  mode: "up" | "serve";
  baseUrl: string;
  pid: number;
  startedAt: string;
  /** The store URL (`sqlite:/abs/path` or a PostgreSQL URL without its password). */
  store: string;
  /** The OEM CA this stack trusts: its file in the folder (absent for `serve`) and OEMID. */
  oemCa: { file: string | null; oemId: string; name: string };
  parts: PartEntry[];
}

export interface Credentials {
  version: typeof STACK_FORMAT;
  /** Admin bearer token per owner (`carrier:acme`), in clear: this file is 0600. */
  adminTokens: Record<string, string>;
  /**
   * Platform tokens of the tenants (`carrier:acme`: custody, verify, migrate;
   * `enterprise:initech`: verify), when the stack runs the platform.
   */
  platformTokens?: Record<string, string>;
}

/** Writes a file atomically (temp + rename) with `mode`, so a reader never sees half of it. */
export async function writeFileAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode); // the umask may have narrowed or the file pre-existed
  await rename(tmp, path);
}

export async function writeStackInfo(dir: string, info: StackInfo): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, STACK_FILE), `${JSON.stringify(info, null, 2)}\n`, 0o644);
}

export async function writeCredentials(dir: string, creds: Credentials): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, CREDENTIALS_FILE), `${JSON.stringify(creds, null, 2)}\n`, 0o600);
}

async function readJson(path: string): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError(`${path} is not valid JSON`);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function isPart(v: unknown): v is PartEntry {
  return (
    isObj(v) &&
    (v.kind === "carrier" || v.kind === "platform" || v.kind === "enterprise") &&
    typeof v.id === "string" &&
    typeof v.url === "string"
  );
}

function isStackInfo(v: unknown): v is StackInfo {
  return (
    isObj(v) &&
    v.version === STACK_FORMAT &&
    (v.mode === "up" || v.mode === "serve") &&
    typeof v.baseUrl === "string" &&
    typeof v.store === "string" &&
    isObj(v.oemCa) &&
    typeof v.oemCa.oemId === "string" &&
    Array.isArray(v.parts) &&
    v.parts.every(isPart)
  );
}

/** The stack.json in `dir`; a one-line CliError (exit 1) when there is none. */
export async function readStackInfo(dir: string): Promise<StackInfo> {
  const abs = resolve(dir);
  const v = await readJson(join(abs, STACK_FILE));
  if (v === undefined) {
    throw new CliError(
      `no dmguard stack in ${abs} (no ${STACK_FILE}); start one with: dmguard up --data ${dir}`,
    );
  }
  if (!isStackInfo(v)) throw new CliError(`${join(abs, STACK_FILE)} is not a dmguard stack file`);
  return v;
}

/** credentials.json in `dir`; an empty set when the file does not exist yet. */
export async function readCredentials(dir: string): Promise<Credentials> {
  const path = join(resolve(dir), CREDENTIALS_FILE);
  const v = await readJson(path);
  if (v === undefined) return { version: STACK_FORMAT, adminTokens: {} };
  if (
    !isObj(v) ||
    v.version !== STACK_FORMAT ||
    !isObj(v.adminTokens) ||
    !Object.values(v.adminTokens).every((t) => typeof t === "string") ||
    (v.platformTokens !== undefined &&
      (!isObj(v.platformTokens) ||
        !Object.values(v.platformTokens).every((t) => typeof t === "string")))
  ) {
    throw new CliError(`${path} is not a dmguard credentials file`);
  }
  return v as unknown as Credentials;
}
