// One contender of process-lock.test.ts: waits until argv[3] (epoch ms), so that all start
// at once, takes the lock at argv[2], prints what it got, and holds it until argv[4].
import { setTimeout as sleep } from "node:timers/promises";
import { dropProcessLock, takeProcessLock } from "../../src/threads/process-lock.js";

const [path, startAt, holdUntil] = process.argv.slice(2);
await sleep(Math.max(0, Number(startAt) - Date.now()));
const got = await takeProcessLock(path!);
process.stdout.write(got === null ? "taken\n" : `busy ${got.heldBy}\n`);
await sleep(Math.max(0, Number(holdUntil) - Date.now()));
if (got === null) await dropProcessLock(path!);
