/**
 * `dmguard audit verify --stack DIR [--part carrier:ID|enterprise:ID|platform]` (CONTRACT.md):
 * walks each part's hash-chained audit log (store/repos/audit.ts) straight from the stack's
 * store, so it works whether or not the stack is running. Exit 0 when every log is intact;
 * exit 1 with one line naming the first entry that was altered, removed or reordered.
 */
import { stat } from "node:fs/promises";
import type { Command } from "commander";
import type { AuditVerification, Store } from "../../store/index.js";
import { CliError, ExitCode } from "../exit.js";
import { writeOutput } from "../io.js";
import type { PartEntry } from "../stack/files.js";
import { parsePart } from "./parse.js";

interface AuditFlags {
  stack: string;
  part?: string;
  db?: string;
  json?: boolean;
}

type PartResult = { part: string } & AuditVerification;

export function registerAudit(program: Command): void {
  const audit = program.command("audit").description("the parts' append-only audit logs");
  audit
    .command("verify")
    .description("check the hash chain of every part's audit log (or one part's)")
    .requiredOption("--stack <dir>", "the stack's data folder (`up --data`, or serve's dataDir)")
    .option("--part <part>", "only this log: carrier:ID, enterprise:ID or platform", parsePart)
    .option("--db <url>", "the store, when stack.json cannot name it (a PostgreSQL password)")
    .option("--json", "print one JSON document")
    .action(async (flags: AuditFlags) => {
      const { readStackInfo } = await import("../stack/files.js");
      const info = await readStackInfo(flags.stack);
      const url = flags.db ?? info.store;
      if (url.includes(":***@")) {
        throw new CliError(
          "stack.json names the store without its password: give --db",
          ExitCode.USAGE,
        );
      }
      const named = info.parts.map(ownerOf);
      if (flags.part !== undefined && !named.includes(flags.part)) {
        throw new CliError(
          `no part ${flags.part} in the stack in ${flags.stack} (its parts: ${named.join(", ")})`,
        );
      }
      const store = await openExisting(url);
      let results: PartResult[];
      try {
        const logged = await store.auditParts();
        const parts = flags.part
          ? [flags.part]
          : [...new Set([...named, ...logged])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        results = [];
        for (const part of parts) {
          results.push(
            logged.includes(part)
              ? { part, ...(await store.verifyAudit(part)) }
              : // Every part's log starts when its first admin token is issued, at its first
                // start, before stack.json names it (compose.ts): a named part without a log
                // lost its first entry and every one after it.
                { part, ok: false, entries: 0, firstBadSeq: 1, problem: "removed" },
          );
        }
      } finally {
        await store.close();
      }
      await writeOutput(flags.json ? `${JSON.stringify({ parts: results })}\n` : table(results));
      const bad = results.find((r) => !r.ok);
      if (bad && !bad.ok) {
        throw new CliError(
          `audit log of ${bad.part}: entry ${bad.firstBadSeq} was ${bad.problem}` +
            ` (entries before it are intact)`,
        );
      }
    });
}

/** The owner name a part's rows and audit log go by: `carrier:acme`, `platform`. */
function ownerOf(p: PartEntry): string {
  return p.kind === "platform" ? "platform" : `${p.kind}:${p.id}`;
}

/** Opens the store without creating it or migrating it: verification changes nothing. */
async function openExisting(url: string): Promise<Store> {
  if (url.startsWith("sqlite:") && url !== "sqlite::memory:") {
    const path = url.slice("sqlite:".length);
    try {
      await stat(path);
    } catch {
      throw new CliError(`the stack's store ${path} does not exist`);
    }
  }
  const { openStore, redactUrl } = await import("../../store/index.js");
  const store = await openStore(url, { migrate: false });
  // No migration ever ran: the database exists but holds no dmguard store (a wrong --db).
  if ((await store.migrations()).every((m) => m.executedAt === null)) {
    await store.close();
    throw new CliError(`${redactUrl(url)} holds no dmguard store`);
  }
  return store;
}

function table(results: PartResult[]): string {
  if (results.length === 0) return "no audit log yet\n";
  const w = Math.max(...results.map((r) => r.part.length));
  return results
    .map((r) =>
      r.ok
        ? `${r.part.padEnd(w)}  intact    ${r.entries} entries, head ${r.head.slice(0, 16)}…\n`
        : `${r.part.padEnd(w)}  ${r.problem.toUpperCase()}  entry ${r.firstBadSeq} (${r.entries} intact before it)\n`,
    )
    .join("");
}
