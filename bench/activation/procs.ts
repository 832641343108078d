/** The bench's server processes: `up` (up-child.ts) and a bare node:http hello-world. */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** VmRSS of the process in MB (from /proc/<pid>/status). */
  rssMb(): number;
  /** CPU time the process (all its threads) has used, in ms (from /proc/<pid>/stat). */
  cpuMs(): number;
  /** Sends a signal (SIGUSR2 toggles up-child's CPU profile). */
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

const UP_CHILD =
  process.env.BENCH_UP_CHILD ?? fileURLToPath(new URL("./up-child.mjs", import.meta.url));

const HELLO = `
import { createServer } from "node:http";
const s = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/plain", "content-length": "5" });
    res.end("hello");
  });
});
s.keepAliveTimeout = 60000;
s.listen(0, "127.0.0.1", () => process.stdout.write("ready http://127.0.0.1:" + s.address().port + "\\n"));
process.on("SIGTERM", () => process.exit(0));
`;

/** VmRSS split as /proc/<pid>/status reports it (anonymous, file-backed, shared memory), in MB. */
export function rssParts(pid: number): string {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const mb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  return `anon ${mb("RssAnon").toFixed(0)}, file ${mb("RssFile").toFixed(0)}, shmem ${mb("RssShmem").toFixed(0)}`;
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

/** utime + stime of a process, in ms (clock ticks of 10 ms on Linux). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start at the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function waitReady(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr?.on("data", (c: Buffer) => {
      if (process.env.BENCH_VERBOSE === "1") process.stderr.write(c);
      err += c.toString();
      if (err.length > 20_000) err = err.slice(-10_000);
    });
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /ready (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on("exit", (code) => reject(new Error(`${what} exited (${code}) before ready: ${err}`)));
  });
}

function wrap(child: ChildProcess, url: string): ServerProcess {
  const pid = child.pid!;
  return {
    url,
    pid,
    rssMb: () => rssMb(pid),
    signal: (sig) => child.kill(sig),
    cpuMs: () => cpuMs(pid),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/**
 * `up` on SQLite in `dataDir` (from dist/: run `npm run build` first). With `cpuProfDir`, SIGUSR2
 * starts and stops a CPU profile of its main thread, written there.
 */
export async function startUp(
  dataDir: string,
  opts: { nonceTtlMs?: number; cpuProfDir?: string } = {},
): Promise<ServerProcess> {
  const args = [UP_CHILD, dataDir];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      ...(opts.nonceTtlMs === undefined ? {} : { BENCH_NONCE_TTL_MS: String(opts.nonceTtlMs) }),
      ...(opts.cpuProfDir === undefined ? {} : { BENCH_CPU_PROF: opts.cpuProfDir }),
    },
  });
  return wrap(child, await waitReady(child, "up"));
}

export async function startHello(): Promise<ServerProcess> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", HELLO], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  return wrap(child, await waitReady(child, "hello-world"));
}
