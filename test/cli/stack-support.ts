// `dmguard up` as a child process on port 0, as a user starts it: the test reads the line that
// starts with `ready ` for the base URL, and stops it with SIGTERM as Ctrl-C would.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "../support/cli.js";

const BIN = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

export interface UpProcess {
  baseUrl: string;
  /** Everything printed on stdout so far (the banner, then the ready line, then any demo). */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
  /** Resolves with the exit code when the process ends by itself. */
  exited: Promise<number | null>;
  /** The signal that ended it (SIGKILL: a crash point fired), once it has exited. */
  signal(): NodeJS.Signals | null;
}

/** `env` is added to the environment (e.g. DMGUARD_CRASH_AT); `--port` in args overrides 0. */
export function startUp(
  args: string[],
  timeoutMs = 20_000,
  env?: NodeJS.ProcessEnv,
): Promise<UpProcess> {
  return startServer(["up", "--port", "0", ...args], timeoutMs, env);
}

/** Any long-running command (`up`, `serve …`) that prints a `ready <url>` line. */
export async function startServer(
  args: string[],
  timeoutMs = 20_000,
  env?: NodeJS.ProcessEnv,
): Promise<UpProcess> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build" first`);
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  let signal: NodeJS.Signals | null = null;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code, sig) => {
      signal = sig;
      resolve(code);
    }),
  );
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no ready line within ${timeoutMs} ms:\n${out}\n${err}`));
    }, timeoutMs);
    child.stdout!.on("data", (s: string) => {
      out += s;
      const m = /^ready (http:\/\/\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr!.on("data", (s: string) => {
      err += s;
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited with ${code} before ready:\n${out}\n${err}`));
    });
  });
  return {
    baseUrl,
    stdout: () => out,
    stderr: () => err,
    exited,
    signal: () => signal,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `dmguard-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** `device manufacture … --json`, parsed; fails the test with stderr when it does not exit 0. */
export async function manufacture(
  stack: string,
  dir: string,
  extra: string[] = [],
): Promise<{ imei: string; carrier: string; registered: boolean; kid: string }> {
  const r = await runCli(["device", "manufacture", dir, "--stack", stack, "--json", ...extra]);
  if (r.code !== 0) throw new Error(`manufacture exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout.toString("utf8"));
}

/** One line on stderr, no stack trace: CONTRACT.md's runtime and usage errors. */
export function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got:\n${stderr}`);
  if (/\n\s+at /.test(stderr)) throw new Error(`stack trace on stderr:\n${stderr}`);
  return lines[0]!;
}
