/**
 * Measures a 1,000,000-device inventory import (one transaction) and lookups against it.
 * Not part of `npm test`:  node --import tsx test/store/import-bench.ts [sqlite|postgres] [rows]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type InventoryInput, openStore } from "../../src/store/index.js";
import { PG_URL } from "./backends.js";

const kind = process.argv[2] ?? "sqlite";
const n = Number(process.argv[3] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), "dmguard-bench-"));
const schema = `dmg_bench_${process.pid}`;
const store =
  kind === "sqlite"
    ? await openStore(`sqlite:${join(dir, "bench.sqlite")}`)
    : await openStore(PG_URL, { schema });

const rows: InventoryInput[] = [];
for (let i = 0; i < n; i++) {
  // Shuffled IMEIs, as a real file is not sorted by index order.
  const k = (i * 7_919) % n;
  rows.push({
    imei: String(350_000_000_000_000 + k),
    meid: k % 4 === 0 ? `A0${(0x100000000000 + k).toString(16).toUpperCase()}` : null,
    model: "dmg-phone-1",
    kid: `acme-k${k % 8}`,
    attestationThumbprint: `NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs${k}`,
    contractEnd: "2030-01-31",
    userGroup: "worker",
  });
}
const acme = store.part("carrier:acme");
const t0 = performance.now();
const r = await acme.inventory.import(rows);
const importMs = performance.now() - t0;
const t1 = performance.now();
const lookups = 10_000;
for (let i = 0; i < lookups; i++) {
  await acme.inventory.get(String(350_000_000_000_000 + ((i * 104_729) % n)));
}
const lookupUs = ((performance.now() - t1) * 1000) / lookups;
console.log(
  JSON.stringify({
    kind,
    rows: n,
    inserted: r.inserted,
    importSeconds: +(importMs / 1000).toFixed(2),
    rowsPerSecond: Math.round(n / (importMs / 1000)),
    lookupMicros: +lookupUs.toFixed(1),
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
  }),
);
await store.close();
rmSync(dir, { recursive: true, force: true });
if (kind !== "sqlite") {
  const pg = (await import("pg")).default;
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  await c.query(`drop schema ${schema} cascade`);
  await c.end();
}
