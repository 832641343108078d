/**
 * `dmguard up`: the whole stack in one process (CONTRACT.md): the OEM CA, the carriers, the
 * platform and the enterprise MDAS initech, on one HTTP port, data under `--data`. Prints the URLs, then `ready <base URL>` (what scripts and
 * tests wait for); `--demo` then runs a small mixed fleet and prints its verdicts. Runs until
 * SIGINT or SIGTERM, then closes HTTP, keystore and store in that order.
 */
import { relative } from "node:path";
import { type Command, Option } from "commander";
import { writeOutput } from "../io.js";
import type { RunningStack } from "../stack/compose.js";
import { DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT } from "../stack/layout.js";
import { parsePort } from "./parse.js";

interface UpOptions {
  data: string;
  port: number;
  host: string;
  demo?: boolean;
  log?: boolean;
}

export function registerUp(program: Command): void {
  program
    .command("up")
    .description(
      "run the whole stack in one process: OEM CA, carriers acme and globex, the platform, enterprise initech, one port",
    )
    .option(
      "--data <dir>",
      "data folder (SQLite store, keystore, OEM CA, credentials)",
      DEFAULT_DATA_DIR,
    )
    .addOption(
      new Option("--port <n>", "HTTP port; 0 = any free port")
        .default(DEFAULT_PORT)
        .argParser(parsePort),
    )
    .option("--host <addr>", "address to listen on", DEFAULT_HOST)
    .option("--demo", "after start, manufacture and activate a small mixed fleet, print verdicts")
    .option("--log", "log every HTTP request (JSON, secrets redacted) on stderr")
    .action(async (opts: UpOptions) => {
      // Before the stack's modules load (heap-growth.ts says why).
      const { limitHeapGrowth } = await import("../stack/heap-growth.js");
      limitHeapGrowth();
      const { startStack } = await import("../stack/compose.js");
      const { untilSignal } = await import("../stack/signals.js");
      const stack = await startStack({
        dataDir: opts.data,
        port: opts.port,
        host: opts.host,
        ...(opts.log ? { logger: { level: "info", stream: process.stderr } } : {}),
      });
      const stopped = untilSignal();
      let demo: { cleanup(): Promise<void> } | null = null;
      try {
        await writeOutput(describe(stack, opts.data));
        if (opts.demo) {
          const { runDemo } = await import("../demo/demo.js");
          demo = await runDemo(stack, stopped.signal);
        }
        await stopped.promise;
        process.stderr.write("dmguard: stopping\n");
      } finally {
        stopped.dispose();
        await stack.close();
        await demo?.cleanup();
      }
    });
}

function describe(stack: RunningStack, dataArg: string): string {
  const { info, baseUrl, dataDir, caCreated } = stack;
  const rel = relative(process.cwd(), dataDir) || ".";
  const shown = rel.startsWith("..") ? dataDir : rel;
  const lines = [
    "dmguard: device integrity verification at activation (US 9,226,145)",
    "",
    `  data      ${dataDir}  (${caCreated ? "created now" : "reused"})`,
    `  OEM CA    ${info.oemCa.name}, OEMID ${info.oemCa.oemId}  (${shown}/oem-ca.json)`,
  ];
  const width = Math.max(...info.parts.map((p) => p.id.length));
  for (const p of info.parts) lines.push(`  ${p.kind.padEnd(9)} ${p.id.padEnd(width)}  ${p.url}`);
  lines.push(
    `  health    ${baseUrl}/healthz`,
    `  metrics   ${baseUrl}/metrics`,
    `  OpenAPI   ${baseUrl}/openapi.json`,
    `  admin     bearer tokens in ${shown}/credentials.json (mode 0600)`,
    "",
    "  try:  dmguard device manufacture ./phone1 --stack " + `${dataArg} --carrier acme`,
    "        dmguard device activate ./phone1",
    "        dmguard device manufacture ./phone2 --stack " +
      `${dataArg} --carrier globex --enterprise initech --user-group worker`,
    "        dmguard device activate ./phone2 --via enterprise:initech",
    `        dmguard audit verify --stack ${dataArg}`,
    "  stop: Ctrl-C",
    "",
    `ready ${baseUrl}`,
    "",
  );
  return lines.join("\n");
}
