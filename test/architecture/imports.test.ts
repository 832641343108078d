/**
 * The layout shows the architecture (DESIGN.md "Parts"): each folder under src/ is one part, and
 * a part may import only the parts below it. The servers (carrier, platform, enterprise) never
 * import one another or the device: they talk over HTTP, as they would in production. This test
 * reads every import in src/ and fails on an edge the table does not allow, and on any cycle
 * between files.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, test } from "node:test";

const SRC = resolve("src");

/** Which parts each part may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  fault: [],
  threads: [],
  omadm: [],
  identity: [],
  evidence: ["identity", "threads", "fault"],
  // The device shares the HPKE wire format with the server keystore (keystore/hpke-*.ts).
  keystore: ["threads", "fault"],
  store: ["threads", "fault"],
  device: ["omadm", "identity", "evidence", "keystore", "threads", "fault"],
  "server-kit": ["omadm", "evidence", "keystore", "store", "fault"],
  carrier: ["server-kit", "omadm", "identity", "evidence", "keystore", "store", "fault"],
  platform: ["server-kit", "omadm", "identity", "evidence", "keystore", "store", "fault"],
  enterprise: ["server-kit", "omadm", "identity", "evidence", "keystore", "store", "fault"],
  cli: [
    "threads",
    "carrier",
    "platform",
    "enterprise",
    "device",
    "server-kit",
    "omadm",
    "identity",
    "evidence",
    "keystore",
    "store",
    "fault",
  ],
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Relative imports, static and dynamic, type-only included (they still couple the parts). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [
    ...text.matchAll(/\bfrom\s+"(\.[^"]+)"/g),
    ...text.matchAll(/\bimport\(\s*"(\.[^"]+)"\s*\)/g),
    ...text.matchAll(/^import\s+"(\.[^"]+)"/gm),
  ].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s.replace(/\.js$/, ".ts")));
}

const partOf = (file: string) => relative(SRC, file).split("/")[0]!;

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe("architecture", () => {
  test("every folder under src/ is a part the table knows", () => {
    const parts = new Set(files.map(partOf));
    for (const p of parts) assert.ok(p in ALLOWED, `src/${p} is not in the layering table`);
  });

  test("the table itself has no cycle", () => {
    const seen = new Set<string>();
    const visit = (p: string, path: string[]) => {
      assert.ok(!path.includes(p), `cycle in the table: ${[...path, p].join(" -> ")}`);
      if (seen.has(p)) return;
      for (const q of ALLOWED[p] ?? []) visit(q, [...path, p]);
      seen.add(p);
    };
    for (const p of Object.keys(ALLOWED)) visit(p, []);
  });

  test("each part imports only the parts below it", () => {
    const bad: string[] = [];
    for (const [file, deps] of graph) {
      const from = partOf(file);
      for (const dep of deps) {
        const to = partOf(dep);
        if (to !== from && !ALLOWED[from]?.includes(to)) {
          bad.push(`${relative(SRC, file)} imports ${relative(SRC, dep)}`);
        }
      }
    }
    assert.deepEqual(bad, []);
  });

  test("every relative import names a file that exists", () => {
    const missing = [...graph].flatMap(([file, deps]) =>
      deps.filter((d) => !graph.has(d)).map((d) => `${relative(SRC, file)} -> ${d}`),
    );
    assert.deepEqual(missing, []);
  });

  test("no cycle between files", () => {
    const state = new Map<string, "open" | "done">();
    const cycles: string[] = [];
    const visit = (f: string, stack: string[]) => {
      const s = state.get(f);
      if (s === "done") return;
      if (s === "open") {
        const from = stack.indexOf(f);
        cycles.push([...stack.slice(from), f].map((x) => relative(SRC, x)).join(" -> "));
        return;
      }
      state.set(f, "open");
      stack.push(f);
      for (const d of graph.get(f) ?? []) if (graph.has(d)) visit(d, stack);
      stack.pop();
      state.set(f, "done");
    };
    for (const f of graph.keys()) visit(f, []);
    assert.deepEqual(cycles, []);
  });
});
