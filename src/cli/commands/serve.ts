/**
 * `dmguard serve carrier --config FILE [--db URL]`: one carrier alone, for production
 * (CONTRACT.md). Same app, routes and admin-token handling as in `up`; the config file
 * (serve/carrier-config.ts, src/cli/README.md) says where its data and the OEM CA certificate
 * are. `serve platform` and `serve enterprise` (issue 5) attach to the command `serveCommand`
 * returns.
 */
import { type Command, Option } from "commander";
import { CliError, ExitCode } from "../exit.js";
import { writeOutput } from "../io.js";
import { parsePort } from "./parse.js";

interface ServeOptions {
  config: string;
  db?: string;
  port?: number;
  log: boolean;
}

export function serveCommand(program: Command): Command {
  const serve = program.command("serve").description("run one part alone (production)");
  serve
    .command("carrier")
    .description("one carrier activation server, from a JSON config (see src/cli/README.md)")
    .requiredOption("--config <file>", "the carrier's JSON configuration")
    .option("--db <url>", "store: sqlite:PATH or postgres://… (overrides the config's db)")
    .addOption(new Option("--port <n>", "HTTP port (overrides the config's)").argParser(parsePort))
    .option("--no-log", "do not log requests (JSON on stderr, secrets redacted)")
    .action(async (opts: ServeOptions) => {
      if (opts.db !== undefined && !/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(opts.db)) {
        throw new CliError("--db takes sqlite:PATH or a postgres:// URL", ExitCode.USAGE);
      }
      const { readCarrierConfig } = await import("../serve/carrier-config.js");
      const cfg = await readCarrierConfig(opts.config);
      const { X509Certificate } = await import("node:crypto");
      const { oemIdOf } = await import("../../evidence/index.js");
      const { X509Certificate: PeculiarCertificate } = await import("../../evidence/x509.js");
      const { runParts } = await import("../stack/compose.js");
      const { carrierPart } = await import("../stack/parts.js");
      const { untilSignal } = await import("../stack/signals.js");
      const anchor = cfg.oemCaCertificatePems[0]!;
      const running = await runParts({
        mode: "serve",
        dataDir: cfg.dataDir,
        storeUrl: opts.db ?? cfg.db,
        keystoreDir: cfg.keystoreDir,
        oemCa: {
          pems: cfg.oemCaCertificatePems,
          file: null,
          oemId: oemIdOf(new PeculiarCertificate(anchor)),
          name: new X509Certificate(anchor).subject.replace(/\n/g, ", "),
        },
        parts: [
          carrierPart(cfg.carrier, {
            ...(cfg.profile === undefined ? {} : { profile: cfg.profile }),
            ...(cfg.publicUrl === undefined ? {} : { publicUrl: cfg.publicUrl }),
          }),
        ],
        port: opts.port ?? cfg.port,
        host: cfg.host,
        ...(opts.log ? { logger: { level: "info", stream: process.stderr } } : {}),
      }).catch((err: unknown) => {
        // The carrier checks its configuration (id, CA certificate, profile) as it mounts and
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
            `carrier ${cfg.carrier}  ${info.parts[0]!.url}`,
            `  store     ${info.store}`,
            `  admin     bearer token in ${cfg.dataDir}/credentials.json (mode 0600)`,
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
    });
  return serve;
}
