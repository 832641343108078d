/**
 * One process at a time has a device open. Two processes on one folder (a `device migrate`
 * and a `device activate` started together) each read the sealed TSZ state and the DM files
 * and wrote back their own: one's deposited key vanished while the carrier recorded it, or the
 * device was active with one carrier and held another's profile. The lock is the device
 * folder's `device.lock` (threads/process-lock.ts); within the process, handles on one device
 * are counted and the file goes with the last.
 */
import { join } from "node:path";
import { dropProcessLock, takeProcessLock } from "../threads/process-lock.js";
import { DeviceError } from "./errors.js";
import { DEVICE_PATHS } from "./normal/layout.js";

const handles = new Map<string, number>();
const UNLOCKABLE = new Set(["ENOENT", "EACCES", "EPERM", "EROFS"]);
/** Takes and drops of one folder run in order, so a count and its file never disagree. */
const queues = new Map<string, Promise<unknown>>();

function serial<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(dir) ?? Promise.resolve()).then(fn, fn);
  const tail = run.catch(() => undefined);
  queues.set(dir, tail);
  void tail.then(() => {
    if (queues.get(dir) === tail) queues.delete(dir);
  });
  return run;
}

/** `dir` absolute. DEVICE_BUSY when another live process holds it. */
export function lockDevice(dir: string): Promise<void> {
  return serial(dir, async () => {
    const n = handles.get(dir) ?? 0;
    if (n === 0) {
      // No folder, no device: opening it fails on its own, with its own words. A folder this
      // process may not write is read without the lock: it cannot change the device.
      const held = await takeProcessLock(join(dir, DEVICE_PATHS.lock)).catch((err: unknown) => {
        if (UNLOCKABLE.has((err as NodeJS.ErrnoException).code ?? "")) return null;
        throw err;
      });
      if (held !== null) {
        throw new DeviceError(
          "DEVICE_BUSY",
          `the device in ${dir} is in use by another process (pid ${held.heldBy}); try again when it has finished`,
        );
      }
    }
    handles.set(dir, n + 1);
  });
}

export function unlockDevice(dir: string): Promise<void> {
  return serial(dir, async () => {
    const n = handles.get(dir) ?? 0;
    if (n <= 1) {
      handles.delete(dir);
      if (n === 1) await dropProcessLock(join(dir, DEVICE_PATHS.lock));
    } else handles.set(dir, n - 1);
  });
}
