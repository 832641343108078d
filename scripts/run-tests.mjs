// Node 20's test runner does not expand globs, so the test files are found here and passed by name.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = find("test")
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();
// The store's transaction-misuse check (src/store/context.ts) is on for every test, and for
// the processes tests spawn.
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", ...files], {
  stdio: "inherit",
  env: { ...process.env, DMGUARD_STORE_CHECKS: "1" },
});
process.exit(r.status ?? 1);
