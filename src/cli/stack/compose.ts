/**
 * Parts on one HTTP app, without the printing: one store, one keystore, the OEM CA's
 * certificates, every part mounted under its prefix, the parts' admin tokens kept in
 * credentials.json, then stack.json written once the port is bound. `dmguard up` runs every
 * part of `stackParts` with the OEM beside them (startStack); `dmguard serve` runs one
 * (serve/carrier-config.ts). What is missing is created; what is found is reused, so a restart
 * keeps the CA, keys, tokens and inventory. Whatever fails half-way is closed again before the
 * error surfaces.
 */
import { mkdir, stat } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import { createRootApp } from "../../carrier/index.js";
import { createOemCa, loadOemCa, OEM_CA_FILE, type OemCa, saveOemCa } from "../../device/index.js";
import { type Keystore, openSoftwareKeystore } from "../../keystore/index.js";
import { openStore, redactUrl, type Store, sqliteUrlFor } from "../../store/index.js";
import { CliError } from "../exit.js";
import {
  type PartEntry,
  readCredentials,
  type StackInfo,
  writeCredentials,
  writeStackInfo,
} from "./files.js";
import { KEYSTORE_DIR, STACK_FORMAT } from "./layout.js";
import type { MountedPart, StackEnv, StackPart } from "./part-types.js";
import { stackParts } from "./parts.js";

export interface RunPartsOptions {
  mode: StackInfo["mode"];
  /** Where stack.json and credentials.json go. */
  dataDir: string;
  storeUrl: string;
  keystoreDir: string;
  /** The OEM CA certificates devices must chain to, and how stack.json names the CA. */
  oemCa: { pems: string[]; file: string | null; oemId: string; name: string };
  parts: StackPart[];
  port: number;
  host: string;
  /** pino options for the HTTP app (secrets are redacted); default: no request log. */
  logger?: FastifyServerOptions["logger"];
}

export interface RunningParts {
  readonly dataDir: string;
  readonly baseUrl: string;
  readonly info: StackInfo;
  /** Owners whose admin token this start issued (the others were reused). */
  readonly issuedTokens: string[];
  close(): Promise<void>;
}

export interface RunningStack extends RunningParts {
  readonly ca: OemCa;
  readonly caCreated: boolean;
}

/** A URL host for the address the server is bound to (wildcards are reached on loopback). */
function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** The CA from the folder, or a new one saved there (0600) on first start. */
async function ensureOemCa(dir: string): Promise<{ ca: OemCa; created: boolean }> {
  // A CA file that exists but does not load is an error, never a reason to make a new CA:
  // that would silently orphan every device already manufactured.
  if (await exists(join(dir, OEM_CA_FILE))) return { ca: await loadOemCa(dir), created: false };
  const ca = await createOemCa();
  await saveOemCa(dir, ca);
  return { ca, created: true };
}

/**
 * Keeps each part's admin token, and the platform's tenant tokens, from credentials.json while
 * the store still honours them (not revoked, not expired, the scopes still there); mints the
 * others. Fills `platformTokens` for the parts that read them.
 */
async function ensureTokens(
  dir: string,
  store: Store,
  mounted: readonly MountedPart[],
  platformTokens: Map<string, string>,
): Promise<string[]> {
  const creds = await readCredentials(dir);
  const issued: string[] = [];
  const honoured = async (part: string, have: string | undefined, scopes: readonly string[]) => {
    const check = have === undefined ? null : await store.part(part).tokens.check(have);
    return check?.status === "ok" && scopes.every((s) => check.token.scopes.includes(s));
  };
  for (const m of mounted) {
    if (!(await honoured(m.owner, creds.adminTokens[m.owner], [m.adminScope]))) {
      creds.adminTokens[m.owner] = await m.issueAdminToken();
      issued.push(m.owner);
    }
    for (const t of m.tenantTokens ?? []) {
      creds.platformTokens ??= {};
      if (!(await honoured(m.owner, creds.platformTokens[t.key], t.scopes))) {
        creds.platformTokens[t.key] = await t.issue();
        issued.push(`${m.owner}/${t.key}`);
      }
      platformTokens.set(t.key, creds.platformTokens[t.key]!);
    }
  }
  await writeCredentials(dir, creds);
  return issued;
}

/**
 * Every part served has an audit log from its start on, so that `audit verify` can tell a part
 * without a log from one whose log was removed. A part's first start audits its admin token's
 * issue; a part of a stack made before token issues were audited opens its log here. A log
 * removed whole while the stack was stopped is therefore reported only until the next start,
 * which opens a new one (the chain's own limit: audit.ts).
 */
async function openAuditLogs(store: Store, owners: readonly string[]): Promise<void> {
  const logged = new Set(await store.auditParts());
  for (const owner of owners) {
    if (logged.has(owner)) continue;
    await store.part(owner).audit.append({ actor: "operator", action: "audit-log-opened" });
  }
}

async function listen(app: FastifyInstance, port: number, host: string): Promise<number> {
  try {
    await app.listen({ port, host });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new CliError(`port ${port} on ${host} is in use; choose another with --port`);
    }
    if (code === "EACCES") throw new CliError(`not allowed to listen on port ${port}`);
    throw err;
  }
  return (app.server.address() as AddressInfo).port;
}

export async function runParts(opts: RunPartsOptions): Promise<RunningParts> {
  const dataDir = resolve(opts.dataDir);
  const closers: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    // A server's commits must not wait for the WAL's copy back into the file (checkpointer.ts).
    const store = await openStore(opts.storeUrl, { checkpoint: "background" });
    closers.push(() => store.close());
    const keystore: Keystore = await openSoftwareKeystore({ dir: opts.keystoreDir });
    closers.push(() => keystore.close());
    const app = createRootApp(opts.logger === undefined ? {} : { logger: opts.logger });
    closers.push(() => app.close());

    const platformTokens = new Map<string, string>();
    let base = "";
    const env: StackEnv = {
      app,
      store,
      keystore,
      oemCaCertificatePems: opts.oemCa.pems,
      platformTokens,
      baseUrl: () => base,
    };
    const mounted: Array<{ part: StackPart; m: MountedPart }> = [];
    for (const part of opts.parts) {
      const m = await part.mount(env);
      // Closed after the app (closers run in reverse), so no request meets a closed keystore.
      if (m.close) closers.splice(closers.length - 1, 0, m.close);
      mounted.push({ part, m });
    }
    const issuedTokens = await ensureTokens(
      dataDir,
      store,
      mounted.map((x) => x.m),
      platformTokens,
    );
    await openAuditLogs(
      store,
      mounted.map((x) => x.m.owner),
    );

    const port = await listen(app, opts.port, opts.host);
    const baseUrl = `http://${urlHost(opts.host)}:${port}`;
    base = baseUrl;
    const parts: PartEntry[] = mounted.map(({ part, m }) => ({
      kind: part.kind,
      id: part.id,
      url: `${baseUrl}${m.path}`,
    }));
    const { file, oemId, name } = opts.oemCa;
    const info: StackInfo = {
      version: STACK_FORMAT,
      mode: opts.mode,
      baseUrl,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      store: redactUrl(opts.storeUrl),
      oemCa: { file, oemId, name },
      parts,
    };
    // Written last: a stack.json always describes a stack that got as far as listening.
    await writeStackInfo(dataDir, info);
    return { dataDir, baseUrl, info, issuedTokens, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

export interface StackOptions {
  dataDir: string;
  port: number;
  host: string;
  logger?: FastifyServerOptions["logger"];
  /** Default: `stackParts()`. */
  parts?: StackPart[];
}

/** `dmguard up`: the OEM CA (made on first start) and every part, data under `dataDir`. */
export async function startStack(opts: StackOptions): Promise<RunningStack> {
  const dataDir = resolve(opts.dataDir);
  // The folder holds the CA's private key, admin tokens and the keystore: owner only when we
  // make it (an existing folder the user chose keeps its mode; its secret files are 0600).
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const { ca, created } = await ensureOemCa(dataDir);
  const running = await runParts({
    mode: "up",
    dataDir,
    storeUrl: sqliteUrlFor(dataDir),
    keystoreDir: join(dataDir, KEYSTORE_DIR),
    oemCa: { pems: [ca.certificatePem], file: OEM_CA_FILE, oemId: ca.oemId, name: ca.name },
    parts: opts.parts ?? stackParts(dataDir),
    port: opts.port,
    host: opts.host,
    ...(opts.logger === undefined ? {} : { logger: opts.logger }),
  });
  return { ...running, ca, caCreated: created };
}
