/**
 * `dmguard enterprise enroll|unenroll --stack DIR --enterprise ID IMEI [--user-group G]`
 * (CONTRACT.md), and `enterprise lookup`: an enterprise MDAS's enrolment list through its admin
 * API, with the stack's admin token. Enrolment decides eligibility at the next activation
 * through the enterprise (NOT_ENROLLED, NOT_ELIGIBLE).
 */
import type { Command } from "commander";
import { CliError } from "../exit.js";
import { writeOutput } from "../io.js";
import { parseId, parseImei } from "./parse.js";

interface EnterpriseFlags {
  stack: string;
  enterprise: string;
  userGroup?: string;
  user?: string;
  json?: boolean;
}

function withStackFlags(cmd: Command): Command {
  return cmd
    .argument("<imei>", "the device's IMEI", parseImei)
    .requiredOption("--stack <dir>", "the `dmguard up` data folder of the running stack")
    .requiredOption("--enterprise <id>", "the enterprise", parseId)
    .option("--json", "print one JSON document");
}

async function admin(flags: EnterpriseFlags) {
  const { StackClient } = await import("../stack/client.js");
  return (await StackClient.open(flags.stack)).enterprise(flags.enterprise);
}

export function registerEnterpriseCommands(program: Command): void {
  const enterprise = program.command("enterprise").description("an enterprise MDAS's enrolment");
  withStackFlags(enterprise.command("enroll").description("add a device to the enrolment list"))
    .option(
      "--user-group <g>",
      "its user group (executive, technology, worker, or the enterprise's)",
    )
    .option("--user <name>", "the user it is issued to")
    .action(async (imei: string, flags: EnterpriseFlags) => {
      const r = await (await admin(flags)).enroll(imei, {
        userGroup: flags.userGroup ?? null,
        user: flags.user ?? null,
      });
      await writeOutput(
        flags.json
          ? `${JSON.stringify(r)}\n`
          : `enterprise ${flags.enterprise}: ${r.imei} enrolled, group ${r.userGroup ?? "none"}${r.user ? `, user ${r.user}` : ""}\n`,
      );
    });
  withStackFlags(
    enterprise.command("unenroll").description("remove a device from the enrolment list"),
  ).action(async (imei: string, flags: EnterpriseFlags) => {
    const r = await (await admin(flags)).unenroll(imei);
    await writeOutput(
      flags.json
        ? `${JSON.stringify(r)}\n`
        : `enterprise ${flags.enterprise}: ${r.imei} unenrolled\n`,
    );
  });
  withStackFlags(
    enterprise.command("lookup").description("the device's enrolment, state and network access"),
  ).action(async (imei: string, flags: EnterpriseFlags) => {
    const r = await (await admin(flags)).lookup(imei);
    if (r === null) throw new CliError(`IMEI ${imei} is not enrolled at ${flags.enterprise}`);
    await writeOutput(`${JSON.stringify(r, null, flags.json ? undefined : 2)}\n`);
  });
}
