/**
 * A lock file naming the process that holds something on disk (the keystore's data directory,
 * a device's folder), for what one process at a time may read and rewrite. It records the pid
 * and, on Linux, the process's start time (clock ticks since boot, /proc/PID/stat field 22),
 * which tells a live holder from an unrelated process given the same pid since. A lock left by
 * a process that has ended is taken over.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { link, open, readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function lockLine(pid: number): string {
  const started = procStat(pid)?.started ?? null;
  return started === null ? `${pid}\n` : `${pid} ${started}\n`;
}

/** Field 22 of /proc/PID/stat and the state (field 3), or null where there is no /proc. */
function procStat(pid: number): { state: string; started: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "ascii");
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold anything: read after the last.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const started = fields[19];
  return state === undefined || started === undefined ? null : { state, started };
}

/**
 * Whether the process that wrote the lock still runs. A zombie has ended (a process killed with
 * SIGKILL stays one until its parent reaps it, seconds on some machines, and a supervisor's
 * restart in that time was refused); so has a live process whose start time differs from the
 * one the lock recorded (the pid was reused).
 */
function holderAlive(pid: number, recordedStart: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (errno(err) !== "EPERM") return false;
  }
  const now = procStat(pid);
  if (now === null) return !existsSync("/proc/self/stat");
  if (now.state === "Z" || now.state === "X") return false;
  return recordedStart === undefined || recordedStart === now.started;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, "ascii");
  } catch (err) {
    if (errno(err) === "ENOENT") return null;
    throw err;
  }
}

/**
 * Makes `path` hold `line`, atomically and only if it does not exist: the line goes to a
 * temporary file first, which is then hard-linked in place (link fails if `path` exists). An
 * `open(path, "wx")` followed by a write would leave, for a moment, an empty lock that another
 * process reads as nobody's and takes over, both then holding it.
 */
async function createWith(path: string, line: string): Promise<boolean> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx", 0o600);
  try {
    // No fsync: a lock outlives its holder only until the holder is found dead, and after a
    // power cut every holder is.
    await fh.writeFile(line);
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if (errno(err) === "EEXIST") return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

/** The pid a lock line names, if that process still runs (and is not this one). */
function liveHolder(text: string): number | null {
  const [pidText, recordedStart] = text.trim().split(" ");
  const held = Number.parseInt(pidText ?? "", 10);
  // This pid's own lock from an earlier holder (an instance whose worker died without
  // releasing it, or the pid reused) counts as ended, as a dead process's does.
  return Number.isSafeInteger(held) &&
    held > 0 &&
    held !== process.pid &&
    holderAlive(held, recordedStart)
    ? held
    : null;
}

const ATTEMPTS = 200;
const RETRY_MS = 25;

/**
 * Takes the lock at `path` for this process: null when taken (also when this process held it
 * already), else the pid of the live process that holds it.
 *
 * A lock whose holder has ended is broken under a second lock, `path.break`: only its holder
 * removes the ended lock (if it still says what was judged) and makes its own, so of several
 * processes finding it at once exactly one takes it. Without that, one could remove the lock
 * another had just made in the ended one's place, and both hold it (seen with five racers).
 */
export async function takeProcessLock(path: string): Promise<{ heldBy: number } | null> {
  const mine = lockLine(process.pid);
  const breaker = `${path}.break`;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (await createWith(path, mine)) return null;
    const text = await readText(path);
    if (text === null) continue; // removed in between: try again
    if (text === mine) return null;
    const held = liveHolder(text);
    if (held !== null) return { heldBy: held };
    if (await createWith(breaker, mine)) {
      try {
        if ((await readText(path)) === text) {
          await rm(path, { force: true });
          if (await createWith(path, mine)) return null;
        }
      } finally {
        await rm(breaker, { force: true });
      }
      continue;
    }
    // Another process is breaking it; its break lock goes too if that process has ended.
    const breaking = await readText(breaker);
    if (breaking !== null && liveHolder(breaking) === null && breaking !== mine) {
      if ((await readText(breaker)) === breaking) await rm(breaker, { force: true });
    }
    await new Promise((r) => setTimeout(r, RETRY_MS));
  }
  throw new Error(`could not take the lock ${path}: it keeps changing`);
}

/** Removes the lock at `path` if this process holds it. */
export async function dropProcessLock(path: string): Promise<void> {
  if ((await readText(path)) === lockLine(process.pid)) await rm(path, { force: true });
}
