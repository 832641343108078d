/**
 * `dmguard serve carrier|platform|enterprise --config FILE [--db URL]`: one part alone, for
 * production (CONTRACT.md). Same app, routes and token handling as in `up`; each config file
 * (serve/*-config.ts, src/cli/README.md) says where the part's data is and what it needs: the
 * OEM CA certificate (carrier, platform), the tenants (platform), the upstreams (enterprise).
 */
import { type Command, Option } from "commander";
import { CliError, ExitCode } from "../exit.js";
import { writeOutput } from "../io.js";
import { isStoreUrl, STORE_URL_RULE } from "../serve/store-url.js";
import type { RunPartsOptions } from "../stack/compose.js";
import type { StackPart } from "../stack/part-types.js";
import { parsePort } from "./parse.js";

interface ServeOptions {
  config: string;
  db?: string;
  port?: number;
  log: boolean;
}

/** What one served part gives the shared runner. */
interface Served {
  part: StackPart;
  dataDir: string;
  keystoreDir: string;
  db: string;
  port: number;
  host: string;
  /** Empty for the enterprise: it verifies no certificate itself. */
  oemCaCertificatePems: string[];
  /** What it says under its URL, besides store, health and `ready`. */
  lines: string[];
}

function serveFlags(cmd: Command, what: string): Command {
  return cmd
    .requiredOption("--config <file>", `the ${what}'s JSON configuration`)
    .option("--db <url>", "store: sqlite:PATH or postgres://… (overrides the config's db)")
    .addOption(new Option("--port <n>", "HTTP port (overrides the config's)").argParser(parsePort))
    .option("--no-log", "do not log requests (JSON on stderr, secrets redacted)");
}

async function oemCaOf(pems: string[]): Promise<RunPartsOptions["oemCa"]> {
  const anchor = pems[0];
  if (anchor === undefined) {
    return { pems, file: null, oemId: "", name: "none (this part checks no device certificate)" };
  }
  const { X509Certificate } = await import("node:crypto");
  const { oemIdOf } = await import("../../evidence/index.js");
  const { X509Certificate: PeculiarCertificate } = await import("../../evidence/x509.js");
  return {
    pems,
    file: null,
    oemId: oemIdOf(new PeculiarCertificate(anchor)),
    name: new X509Certificate(anchor).subject.replace(/\n/g, ", "),
  };
}

/** Runs one part until SIGINT/SIGTERM: prints its URL, then `ready <base URL>`. */
async function runServed(opts: ServeOptions, s: Served): Promise<void> {
  // Before the stack's modules load (heap-growth.ts says why).
  const { limitHeapGrowth } = await import("../stack/heap-growth.js");
  limitHeapGrowth();
  const { runParts } = await import("../stack/compose.js");
  const { untilSignal } = await import("../stack/signals.js");
  const running = await runParts({
    mode: "serve",
    dataDir: s.dataDir,
    storeUrl: opts.db ?? s.db,
    keystoreDir: s.keystoreDir,
    oemCa: await oemCaOf(s.oemCaCertificatePems),
    parts: [s.part],
    port: opts.port ?? s.port,
    host: s.host,
    ...(opts.log ? { logger: { level: "info", stream: process.stderr } } : {}),
  }).catch((err: unknown) => {
    // A part checks its configuration (ids, CA certificate, profile, groups) as it mounts and
    // throws TypeError for a bad value: that is the config file's fault, a usage error.
    if (err instanceof TypeError) {
      throw new CliError(`${opts.config}: ${err.message}`, ExitCode.USAGE);
    }
    throw err;
  });
  const stopped = untilSignal();
  try {
    const { info, baseUrl } = running;
    await writeOutput(
      [
        `${s.part.kind} ${s.part.id}  ${info.parts[0]!.url}`,
        `  store     ${info.store}`,
        ...s.lines,
        `  health    ${baseUrl}/healthz`,
        `ready ${baseUrl}`,
        "",
      ].join("\n"),
    );
    await stopped.promise;
  } finally {
    stopped.dispose();
    await running.close();
  }
}

export function serveCommand(program: Command): Command {
  const serve = program.command("serve").description("run one part alone (production)");
  serve.hook("preAction", (_serve, action) => {
    const db = (action.opts() as ServeOptions).db;
    if (db !== undefined && !isStoreUrl(db)) {
      throw new CliError(`--db ${STORE_URL_RULE}`, ExitCode.USAGE);
    }
  });

  serveFlags(
    serve
      .command("carrier")
      .description("one carrier activation server, from a JSON config (see src/cli/README.md)"),
    "carrier",
  ).action(async (opts: ServeOptions) => {
    const { readCarrierConfig } = await import("../serve/carrier-config.js");
    const { carrierPart } = await import("../stack/parts.js");
    const cfg = await readCarrierConfig(opts.config);
    await runServed(opts, {
      ...cfg,
      part: carrierPart(cfg.carrier, {
        ...(cfg.profile === undefined ? {} : { profile: cfg.profile }),
        ...(cfg.publicUrl === undefined ? {} : { publicUrl: cfg.publicUrl }),
        ...(cfg.platform === undefined ? {} : { platformSync: cfg.platform }),
        // The same platform and token answer its migration questions (src/carrier/README.md);
        // `migration` adds old carriers asked directly, notice addresses, its own policy.
        ...(cfg.platform === undefined && cfg.migration === undefined
          ? {}
          : {
              migration: {
                ...(cfg.platform === undefined ? {} : { platform: cfg.platform }),
                ...cfg.migration,
              },
            }),
      }),
      lines: [`  admin     bearer token in ${cfg.dataDir}/credentials.json (mode 0600)`],
    });
  });

  serveFlags(
    serve
      .command("platform")
      .description("the common platform, from a JSON config (see src/cli/README.md)"),
    "platform",
  ).action(async (opts: ServeOptions) => {
    const { readPlatformConfig } = await import("../serve/platform-config.js");
    const { platformPart } = await import("../stack/platform-part.js");
    const cfg = await readPlatformConfig(opts.config);
    await runServed(opts, {
      ...cfg,
      // Served alone, the process's keystore is the platform's own.
      part: platformPart({
        carriers: cfg.carriers,
        enterprises: cfg.enterprises,
        migrationPolicies: cfg.migrationPolicies,
      }),
      lines: [
        `  tenants   ${[...cfg.carriers, ...cfg.enterprises.map((e) => e.id)].join(", ") || "none"}`,
        `  tokens    operator and tenants' tokens in ${cfg.dataDir}/credentials.json (mode 0600)`,
      ],
    });
  });

  serveFlags(
    serve
      .command("enterprise")
      .description("one enterprise MDAS, from a JSON config (see src/cli/README.md)"),
    "enterprise",
  ).action(async (opts: ServeOptions) => {
    const { readEnterpriseConfig } = await import("../serve/enterprise-config.js");
    const { enterprisePart } = await import("../stack/enterprise-part.js");
    const cfg = await readEnterpriseConfig(opts.config);
    await runServed(opts, {
      ...cfg,
      oemCaCertificatePems: [],
      part: enterprisePart(cfg.enterprise, () => cfg.upstreams, {
        ...(cfg.groups === undefined ? {} : { groups: cfg.groups }),
        ...(cfg.allowedModels === undefined ? {} : { allowedModels: cfg.allowedModels }),
        ...(cfg.publicUrl === undefined ? {} : { publicUrl: cfg.publicUrl }),
        ...(cfg.defaultCarrier === undefined ? {} : { defaultCarrier: cfg.defaultCarrier }),
      }),
      lines: [
        `  upstreams ${Object.entries(cfg.upstreams)
          .map(([c, u]) => `${c} → ${u.kind}`)
          .join(", ")}`,
        `  admin     bearer token in ${cfg.dataDir}/credentials.json (mode 0600)`,
      ],
    });
  });
  return serve;
}
