// Run by delivery-loop.test.ts as its own process: a platform sync whose platform is
// unreachable, backed off for a minute, with nothing else to do. It prints "asleep" once the
// first attempt failed and then returns without stopping the sync, so the process exits only
// if the loop's timer does not hold it open.
import { PlatformSync } from "../../src/carrier/platform-sync/deliver.js";
import { openStore } from "../../src/store/index.js";

const [url] = process.argv.slice(2);
if (!url) throw new Error("usage: idle-sync-process.ts <store url>");
const store = await openStore(url);
const part = store.part("carrier:idle");
// Port 9 (discard) is closed on loopback: each delivery fails at once.
const sync = new PlatformSync("idle", part, {
  url: "http://127.0.0.1:9/platform",
  token: "t",
  retryBaseMs: 60_000,
  retryMaxMs: 60_000,
  pollMs: 60_000,
});
await part.transaction((tx) => sync.queueStatus(tx, "359991019999999", "blocked", Date.now()));
sync.start();
const end = Date.now() + 10_000;
while (sync.platformBackoff === undefined) {
  if (Date.now() > end) throw new Error("no delivery attempt");
  await new Promise((ok) => setTimeout(ok, 20));
}
await store.close();
process.stdout.write("asleep\n");
