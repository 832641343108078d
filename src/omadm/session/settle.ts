/**
 * For engine steps that usually finish at once. An application callback may return a promise,
 * but most return a plain value (or there is no callback), and awaiting those anyway cost a
 * promise and a microtask per step, and kept the steps (async functions are never inlined) from
 * being optimised together with their callers. Such a step returns its result directly when it
 * had nothing to wait for, and a promise only when it did; its caller awaits only a promise.
 * Effects happen in the same order either way.
 */

/** Whether `await v` would wait for something: a promise or any other thenable. */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === "object" || typeof v === "function") &&
    typeof (v as { then?: unknown }).then === "function"
  );
}
