/**
 * `dmguard device manufacture DEVDIR --stack DIR --carrier ID …` (CONTRACT.md): the OEM's
 * factory line against a running stack (stack/factory.ts). Attached to the `device` command
 * that commands/device.ts defines, so the device's commands stay under one name.
 */
import { type Command, Option } from "commander";
import { CliError, ExitCode } from "../exit.js";
import { writeOutput } from "../io.js";
import type { StackDevice } from "../stack/factory.js";
import { parseDate, parseId, parseImei, parseMeid, parseSlots } from "./parse.js";

interface ManufactureFlags {
  stack: string;
  carrier: string;
  model: string;
  imei?: string;
  meid?: string;
  userGroup?: string;
  enterprise?: string;
  slots?: 8 | 16 | 24;
  contractEnd?: string;
  counterfeit?: boolean;
  register: boolean;
  json?: boolean;
}

export const DEFAULT_MODEL = "dmg-phone-1";

export function registerManufacture(program: Command): void {
  const device = program.commands.find((c) => c.name() === "device");
  if (!device) throw new Error("register the device command before device manufacture");
  device
    .command("manufacture")
    .description(
      "make an emulated device with the stack's OEM CA and register it in the carrier's inventory",
    )
    .argument("<devdir>", "the new device's folder")
    .requiredOption("--stack <dir>", "the `dmguard up` data folder of the running stack")
    .requiredOption("--carrier <id>", "the first carrier (slot 0's key, inventory)", parseId)
    .option("--model <m>", "device model (TAC table)", DEFAULT_MODEL)
    .option("--imei <n>", "fused IMEI; default a valid, unused one for the model", parseImei)
    .option("--meid <hex>", "fused MEID (CDMA models get one by default)", parseMeid)
    .option(
      "--user-group <g>",
      "user group on the inventory record (executive, technology, worker)",
    )
    .option(
      "--enterprise <id>",
      "enterprise on the inventory record; also enrols the device there (with --user-group)",
      parseId,
    )
    .addOption(new Option("--slots <n>", "security-key slots: 8, 16 or 24").argParser(parseSlots))
    .option("--contract-end <date>", "subsidy/contract end, YYYY-MM-DD", parseDate)
    .option("--counterfeit", "a certificate that is not from the stack's OEM CA")
    .option("--no-register", "do not register it (grey market; with a registered --imei, a clone)")
    .option("--json", "print one JSON document")
    .action(async (dir: string, flags: ManufactureFlags) => {
      if (
        flags.userGroup !== undefined &&
        !/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/.test(flags.userGroup)
      ) {
        throw new CliError("--user-group is 1-64 letters, digits, spaces, . _ -", ExitCode.USAGE);
      }
      const { StackClient } = await import("../stack/client.js");
      const { manufactureWithStack } = await import("../stack/factory.js");
      const stack = await StackClient.open(flags.stack);
      const made = await manufactureWithStack(stack, dir, {
        carrier: flags.carrier,
        model: flags.model,
        ...(flags.imei === undefined ? {} : { imei: flags.imei }),
        ...(flags.meid === undefined ? {} : { meid: flags.meid }),
        userGroup: flags.userGroup ?? null,
        enterprise: flags.enterprise ?? null,
        ...(flags.slots === undefined ? {} : { slots: flags.slots }),
        contractEnd: flags.contractEnd ?? null,
        counterfeit: flags.counterfeit === true,
        register: flags.register,
      });
      await made.device.close();
      await writeOutput(flags.json ? `${JSON.stringify(summary(made))}\n` : describe(dir, made));
    });
}

function summary({ record, registered, device, deposited, enrolledAt, resumed }: StackDevice) {
  return {
    dir: device.dir,
    imei: record.imei,
    meid: record.meid,
    esn: record.esn,
    model: record.model,
    carrier: record.carrier,
    kid: record.kid,
    slots: record.slotCount,
    counterfeit: record.counterfeit,
    registered,
    deposited: deposited === true,
    enterprise: enrolledAt ?? null,
    resumed: resumed === true,
  };
}

function describe(
  dir: string,
  { record, registered, deposited, enrolledAt, resumed }: StackDevice,
): string {
  const lines = [
    resumed
      ? `finished registering the ${record.model} made in ${dir}`
      : `manufactured ${record.model} in ${dir}`,
    `  IMEI      ${record.imei}${record.meid ? `   MEID ${record.meid}   pESN ${record.esn}` : ""}`,
    `  slot 0    ${record.carrier} (kid ${record.kid}), ${record.slotCount} slots`,
    `  cert      ${record.counterfeit ? "COUNTERFEIT (not from the stack's OEM CA)" : "issued by the stack's OEM CA"}`,
    `  inventory ${registered ? `registered with carrier ${record.carrier}` : "not registered"}`,
  ];
  if (deposited) lines.push(`  custody   deposited at the platform for ${record.carrier}`);
  if (enrolledAt) lines.push(`  enrolled  at enterprise ${enrolledAt}`);
  return `${lines.join("\n")}\n`;
}
