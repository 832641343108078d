/**
 * `dmguard device …`: the emulated device of US 9,226,145, driven from the shell. Each command
 * opens the device's TSZ, does one thing, and closes it again so the process exits promptly.
 * The device's modules load only when a command runs (cli-words.ts has what the checks need).
 */
import type { Command } from "commander";
import {
  DM_TRIGGERS,
  isActivationError,
  isDmClientError,
  isDmTrigger,
  isTamperKind,
  parseVia,
  serverBase,
  TAMPER_KINDS,
} from "../../device/cli-words.js";
import type { ActivationResult, Device, DeviceStatus } from "../../device/index.js";
import { CliError, ExitCode } from "../exit.js";
import { writeOutput } from "../io.js";
import { registerDeviceMigrate } from "./device-migrate.js";
import { usage } from "./device-usage.js";

export function registerDevice(program: Command): void {
  const device = program.command("device").description("the emulated mobile device");
  registerDeviceMigrate(device);

  device
    .command("tamper")
    .description(`fault injection for testing; KIND is one of: ${TAMPER_KINDS.join(", ")}`)
    .argument("<devdir>", "the device's folder")
    .argument("<kind>", "what to tamper with")
    .action(async (dir: string, kind: string) => {
      if (!isTamperKind(kind)) {
        throw new CliError(
          `unknown tamper kind "${kind}"; expected one of ${TAMPER_KINDS.join(", ")}`,
          ExitCode.USAGE,
        );
      }
      await withDevice(dir, (d) => d.tamper(kind));
    });

  device
    .command("factory-reset")
    .description("clear the normal world's provisioning; the TSZ keeps its keys, toggle key 1")
    .argument("<devdir>", "the device's folder")
    .action(async (dir: string) => {
      await withDevice(dir, (d) => d.factoryReset());
    });

  device
    .command("status")
    .description("identity, toggle key, key slots (never key material), access, profile")
    .argument("<devdir>", "the device's folder")
    .option("--json", "print one JSON document")
    .action(async (dir: string, opts: { json?: boolean }) => {
      const status = await withDevice(dir, (d) => d.status());
      await writeOutput(opts.json ? `${JSON.stringify(status)}\n` : describeStatus(status));
    });

  device
    .command("dm-account")
    .description("the DM account the device's DM client keeps in ./DMAcc (reveals its secrets)")
    .argument("<devdir>", "the device's folder")
    .option("--json", "print one JSON document")
    .action(async (dir: string, opts: { json?: boolean }) => {
      const account = await withDevice(dir, (d) => d.dmAccount().catch(typedFailure));
      await writeOutput(
        opts.json ? `${JSON.stringify(account)}\n` : `${JSON.stringify(account, null, 2)}\n`,
      );
    });

  device
    .command("activate")
    .description(
      "verification, then the OMA DM session: exit 0 approved, 3 denied, 1 runtime error",
    )
    .argument("<devdir>", "the device's folder")
    .option("--via <who>", "carrier:ID (default: the device's carrier) or enterprise:ID")
    .option("--trigger <event>", `what starts the session: ${DM_TRIGGERS.join(", ")}`, "hfa")
    .option("--server <url>", "the stack's base URL (default: the one learned at manufacture)")
    .option("--json", "print one JSON document")
    .action(
      async (
        dir: string,
        opts: { via?: string; trigger: string; server?: string; json?: boolean },
      ) => {
        if (!isDmTrigger(opts.trigger)) {
          throw new CliError(
            `unknown trigger "${opts.trigger}"; expected one of ${DM_TRIGGERS.join(", ")}`,
            ExitCode.USAGE,
          );
        }
        const trigger = opts.trigger;
        if (opts.via !== undefined) usage(() => parseVia(opts.via as string));
        if (opts.server !== undefined) usage(() => serverBase(opts.server as string));
        const { activateDevice } = await import("../../device/index.js");
        const result = await withDevice(dir, (d) =>
          activateDevice(d, {
            trigger,
            ...(opts.via !== undefined ? { via: opts.via } : {}),
            ...(opts.server !== undefined ? { serverUrl: opts.server } : {}),
          }).catch(typedFailure),
        );
        await writeOutput(opts.json ? `${JSON.stringify(result)}\n` : describeActivation(result));
        if (result.verdict !== "approved") {
          throw new CliError(
            `not approved ${result.via.startsWith("enterprise:") ? `via ${result.via}` : `by ${result.carrier}`}: ${result.reasons.join(" ") || "no reason given"}`,
            ExitCode.NOT_APPROVED,
          );
        }
      },
    );
}

/** Activation and DM client errors as one line with their code; exit 1 (CONTRACT.md). */
function typedFailure(err: unknown): never {
  if (isActivationError(err) || isDmClientError(err)) {
    throw new CliError(`${err.code}: ${err.message}`, ExitCode.RUNTIME);
  }
  throw err;
}

async function withDevice<T>(dir: string, work: (d: Device) => Promise<T>): Promise<T> {
  const { openDevice } = await import("../../device/index.js");
  const device = await openDevice(dir);
  try {
    return await work(device);
  } finally {
    await device.close();
  }
}

function describeStatus(s: DeviceStatus): string {
  const lines = [
    `IMEI            ${s.imei}${s.meid ? `   MEID ${s.meid}` : ""}`,
    `model           ${s.model}`,
    `toggle key      ${s.toggleKey} (${s.toggleKey === 0 ? "provisioning allowed" : "provisioning blocked"})`,
    `active carrier  ${s.activeCarrier ?? "none"}`,
    `network access  ${s.networkAccess}`,
    `key slots       ${s.slots.map((x) => `${x.index}:${x.carrier}`).join(" ") || "none"}`,
  ];
  if (s.lastVerdict) {
    const v = s.lastVerdict;
    lines.push(
      `last verdict    ${v.verdict} via ${v.via}${v.reasons.length ? ` (${v.reasons.join(", ")})` : ""}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function describeActivation(r: ActivationResult): string {
  const lines = [
    `verdict         ${r.verdict} by ${r.carrier} via ${r.via}${r.reasons.length ? ` (${r.reasons.join(", ")})` : ""}`,
    `toggle key      ${r.toggleKey} (${r.toggleKey === 0 ? "provisioning allowed" : "provisioning blocked"})`,
    `network access  ${r.networkAccess}`,
  ];
  const s = r.dmSession;
  if (s) {
    const refused = s.refused > 0 ? `, ${s.refused} profile writes refused (425)` : "";
    lines.push(
      `DM session      ${s.trigger}, ${s.messages} messages, ${s.commands} commands${refused}`,
    );
  } else {
    lines.push("DM session      none (the verdict carried no DM account)");
  }
  // A carrier's profile MO, or an MDAS's group content (which names its enterprise).
  const p = r.profile as { access?: unknown; userGroup?: unknown; enterprise?: unknown } | null;
  if (p && typeof p.enterprise === "string") {
    lines.push(`content         ${p.enterprise}, group ${String(p.userGroup)}`);
    return `${lines.join("\n")}\n`;
  }
  lines.push(
    `profile         ${p ? `${String(p.access)}${p.userGroup ? ` (${String(p.userGroup)})` : ""}` : "none"}`,
  );
  return `${lines.join("\n")}\n`;
}
