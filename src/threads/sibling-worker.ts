/**
 * Starts the worker module that sits next to its caller: `NAME.js` when the caller runs compiled
 * (dist), `NAME.ts` when it runs from source under tsx (the tests and the bench).
 *
 * Node 20 does not apply `--import tsx` hooks to a worker's entry module ("Unknown file extension
 * .ts"), so a .ts entry is started by a one-line bootstrap that registers tsx inside the worker
 * (its loader hooks then cover every import the entry makes, dynamic ones too) and then imports
 * the entry. tsx is resolved from this module, whatever the cwd.
 */
import { Worker, type WorkerOptions } from "node:worker_threads";
import { reapplyHeapFlags } from "./heap-flags.js";

/**
 * `callerUrl` is the caller's `import.meta.url`; `name` the worker module's file name without
 * extension. The worker never inherits the parent's `execArgv` (a `--cpu-prof` or `--inspect`
 * meant for the server must not start in each thread).
 */
export function startSiblingWorker(
  callerUrl: string,
  name: string,
  options: Omit<WorkerOptions, "eval" | "execArgv"> = {},
): Worker {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new RangeError(`bad worker module name: ${name}`);
  const worker = createWorker(callerUrl, name, options);
  // Its isolate's set-up may have rewritten process-wide heap flags (heap-flags.ts).
  worker.once("online", reapplyHeapFlags);
  return worker;
}

function createWorker(
  callerUrl: string,
  name: string,
  options: Omit<WorkerOptions, "eval" | "execArgv">,
): Worker {
  if (callerUrl.endsWith(".ts")) {
    const entry = new URL(`./${name}.ts`, callerUrl).href;
    const api = import.meta.resolve("tsx/esm/api");
    const boot =
      `import(${JSON.stringify(api)})` +
      `.then((m) => { m.register(); return import(${JSON.stringify(entry)}); })` +
      ".catch((e) => setImmediate(() => { throw e; }));";
    return new Worker(boot, { ...options, eval: true, execArgv: [] });
  }
  return new Worker(new URL(`./${name}.js`, callerUrl), { ...options, execArgv: [] });
}
