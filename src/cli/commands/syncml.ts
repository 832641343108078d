/**
 * `dmguard syncml decode|encode`: the field engineer's tool for a captured DM message.
 * Both read XML or WBXML (detected from the bytes), so a capture can be inspected or re-encoded
 * without knowing its encoding first.
 */
import type { Command } from "commander";
import { decodeMessage, encodeMessage, messageToXml } from "../../omadm/codec.js";
import { DEFAULT_LIMITS } from "../../omadm/errors.js";
import { CliError, ExitCode } from "../exit.js";
import { readInput, writeOutput } from "../io.js";

export function registerSyncml(program: Command): void {
  const syncml = program
    .command("syncml")
    .description("decode and re-encode OMA DM (SyncML DM 1.2) messages, XML or WBXML");

  syncml
    .command("decode")
    .description("print one OMA DM message (XML or WBXML, detected) as indented XML")
    .argument("[file]", "message file; standard input when absent or -")
    .action(async (file: string | undefined) => {
      const input = await readInput(file, DEFAULT_LIMITS.maxBytes);
      const { message } = decodeMessage(input);
      await writeOutput(`${messageToXml(message, { indent: true })}\n`);
    });

  syncml
    .command("encode")
    .description("re-encode one OMA DM message (XML or WBXML) as WBXML or XML on standard output")
    .argument("[file]", "message file; standard input when absent or -")
    .option("--wbxml", "write WBXML 1.2 (SyncML 1.2 public id 0x1201)")
    .option("--xml", "write XML")
    .action(async (file: string | undefined, opts: { wbxml?: boolean; xml?: boolean }) => {
      if (Boolean(opts.wbxml) === Boolean(opts.xml)) {
        throw new CliError("choose exactly one of --wbxml or --xml", ExitCode.USAGE);
      }
      const input = await readInput(file, DEFAULT_LIMITS.maxBytes);
      const { message } = decodeMessage(input);
      await writeOutput(encodeMessage(message, opts.wbxml ? "wbxml" : "xml"));
    });
}
