/**
 * `dmguard fleet --stack DIR --devices N [--concurrency C] [--tamper-rate R] [--json]`
 * (CONTRACT.md): many devices made and activated against a running stack, with a progress bar
 * on a terminal, then throughput, latency percentiles and expected-vs-actual verdicts. A fleet
 * whose verdicts differ from CONTRACT.md's table exits 1 (after its report).
 */
import { type Command, Option } from "commander";
import { CliError } from "../exit.js";
import { writeOutput } from "../io.js";
import { parseConcurrency, parseCount, parseRate } from "./parse.js";

interface FleetFlags {
  stack: string;
  devices: number;
  concurrency: number;
  tamperRate: number;
  devicesDir?: string;
  json?: boolean;
}

export function registerFleet(program: Command): void {
  program
    .command("fleet")
    .description("manufacture and activate many devices; throughput, latency, verdicts")
    .requiredOption("--stack <dir>", "the `dmguard up` data folder of the running stack")
    .addOption(
      new Option("--devices <n>", "how many devices").makeOptionMandatory().argParser(parseCount),
    )
    .addOption(
      new Option("--concurrency <c>", "devices activating at once")
        .default(16)
        .argParser(parseConcurrency),
    )
    .addOption(
      new Option("--tamper-rate <r>", "share of devices tampered with (one KIND each), 0-1")
        .default(0.2)
        .argParser(parseRate),
    )
    .option("--devices-dir <dir>", "keep the device folders here (default: temporary, removed)")
    .option("--json", "print one JSON document (CONTRACT.md's fleet shape)")
    .action(async (flags: FleetFlags) => {
      const { StackClient } = await import("../stack/client.js");
      const { runFleet } = await import("../fleet/run-fleet.js");
      const { untilSignal } = await import("../stack/signals.js");
      const { closeDefaultTszPool } = await import("../../device/index.js");
      const stack = await StackClient.open(flags.stack);
      // Fail before making anything when the stack is down or lacks the OEM.
      await Promise.all([stack.oemCa(), stack.verdictKeys()]);
      const stop = untilSignal();
      let result: Awaited<ReturnType<typeof runFleet>>;
      try {
        result = await runFleet(stack, {
          devices: flags.devices,
          concurrency: flags.concurrency,
          tamperRate: flags.tamperRate,
          signal: stop.signal,
          ...(flags.devicesDir === undefined ? {} : { devicesDir: flags.devicesDir }),
        });
      } catch (err) {
        if (stop.signal.aborted) throw new CliError("fleet interrupted; nothing more was made");
        throw err;
      } finally {
        stop.dispose();
        await closeDefaultTszPool();
      }
      await writeOutput(flags.json ? `${JSON.stringify(result.json)}\n` : result.text);
      const { mismatches, devices } = result.json;
      if (mismatches > 0) {
        const first = result.outcomes.find((o) => !o.matches)!;
        const what = first.error ?? `${first.verdict} ${first.reasons.join(" ")}`;
        throw new CliError(
          `${mismatches} of ${devices} devices did not get the expected verdict; the first (${first.plan.label}): ${what}`,
        );
      }
    });
}
