/**
 * `dmguard carrier terminate|block|unblock --stack DIR --carrier ID IMEI` (CONTRACT.md), and
 * `carrier lookup` to see a device's record: the carrier's admin API with the stack's admin
 * token.
 */
import type { Command } from "commander";
import { CliError } from "../exit.js";
import { writeOutput } from "../io.js";
import type { ActionResult, DeviceAction } from "../stack/carrier-admin.js";
import { parseId, parseImei } from "./parse.js";

interface CarrierFlags {
  stack: string;
  carrier: string;
  json?: boolean;
}

const ACTIONS: Array<{ name: DeviceAction; does: string }> = [
  { name: "terminate", does: "end service: off the network access permission list" },
  { name: "block", does: "mark lost or stolen: refused at activation, limited access" },
  { name: "unblock", does: "clear the lost/stolen mark" },
];

function withStackFlags(cmd: Command): Command {
  return cmd
    .argument("<imei>", "the device's IMEI", parseImei)
    .requiredOption("--stack <dir>", "the `dmguard up` data folder of the running stack")
    .requiredOption("--carrier <id>", "the carrier", parseId)
    .option("--json", "print one JSON document");
}

export function registerCarrierCommands(program: Command): void {
  const carrier = program.command("carrier").description("a carrier's administration");
  for (const a of ACTIONS) {
    withStackFlags(carrier.command(a.name).description(a.does)).action(
      async (imei: string, flags: CarrierFlags) => {
        const { StackClient } = await import("../stack/client.js");
        const stack = await StackClient.open(flags.stack);
        const r = await stack.carrier(flags.carrier).act(imei, a.name);
        await writeOutput(flags.json ? `${JSON.stringify(r)}\n` : describe(flags.carrier, r));
      },
    );
  }
  withStackFlags(
    carrier.command("lookup").description("the device's inventory record, state and verdicts"),
  ).action(async (imei: string, flags: CarrierFlags) => {
    const { StackClient } = await import("../stack/client.js");
    const stack = await StackClient.open(flags.stack);
    const r = await stack.carrier(flags.carrier).lookup(imei);
    if (r === null)
      throw new CliError(`IMEI ${imei} is not in carrier ${flags.carrier}'s inventory`);
    await writeOutput(`${JSON.stringify(r, null, flags.json ? undefined : 2)}\n`);
  });
}

function describe(carrier: string, r: ActionResult): string {
  const access = r.networkAccess ?? "none (not on the permission list)";
  return `carrier ${carrier}: ${r.imei} is ${r.status}; network access ${access}\n`;
}
