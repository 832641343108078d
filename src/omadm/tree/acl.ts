/**
 * Access control lists (OMA-TS-DM_TND §8.3.7.1). The grammar of §8.3.7.1.5:
 *
 *   acl        ::= acl-value | "No value"           (the empty string)
 *   acl-value  ::= acl-entry *( "&" acl-entry )
 *   acl-entry  ::= command "=" server-id *( "+" server-id )
 *   server-id  ::= "*" | 1*( printable except "=", "&", "*", "+" and white space )
 *   command    ::= "Add" | "Delete" | "Exec" | "Get" | "Replace"
 *
 * Parsing is strict: an unknown command, a command without identifiers, an empty identifier,
 * stray white space or a command named twice is malformed (a Replace of `?prop=ACL` with such
 * a value gets (400) Bad request). Naming a command twice is refused rather than merged because
 * §8.3.7.1.1 says ACL values are never built by concatenation.
 */

export const ACL_COMMANDS = ["Add", "Delete", "Exec", "Get", "Replace"] as const;
export type AclCommand = (typeof ACL_COMMANDS)[number];

export interface AclEntry {
  readonly command: AclCommand;
  /** Server identifiers, in the order written; `*` is the wildcard. */
  readonly servers: readonly string[];
}

/** A parsed ACL; the empty list is "no value", which inherits from the parent (§8.3.7.1.1). */
export type Acl = readonly AclEntry[];

export const EMPTY_ACL: Acl = Object.freeze([]);

export type AclParseResult =
  | { readonly ok: true; readonly acl: Acl }
  | { readonly ok: false; readonly reason: string };

// Printable, not white space, not one of = & * +. C0/C1 controls and the Unicode separators
// are excluded; other printable characters (including non-ASCII) are allowed.
const SERVER_ID = /^[^\s=&*+\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;

function isCommand(s: string): s is AclCommand {
  return (ACL_COMMANDS as readonly string[]).includes(s);
}

export function parseAcl(text: string): AclParseResult {
  if (text === "") return { ok: true, acl: EMPTY_ACL };
  const entries: AclEntry[] = [];
  const seen = new Set<AclCommand>();
  for (const part of text.split("&")) {
    const eq = part.indexOf("=");
    if (eq < 0) return { ok: false, reason: `entry "${part}" has no "="` };
    const command = part.slice(0, eq);
    if (!isCommand(command)) return { ok: false, reason: `unknown command "${command}"` };
    if (seen.has(command)) return { ok: false, reason: `command ${command} named twice` };
    seen.add(command);
    const ids = part.slice(eq + 1).split("+");
    for (const id of ids) {
      if (id !== "*" && !SERVER_ID.test(id)) {
        return { ok: false, reason: `bad server identifier "${id}" for ${command}` };
      }
    }
    entries.push(Object.freeze({ command, servers: Object.freeze(ids) }));
  }
  return { ok: true, acl: Object.freeze(entries) };
}

/** Parses or throws; for ACL values written by device code, where a bad one is a bug. */
export function acl(text: string): Acl {
  const r = parseAcl(text);
  if (!r.ok) throw new TypeError(`malformed ACL "${text}": ${r.reason}`);
  return r.acl;
}

/**
 * ACL text per parsed ACL. Parsed ACLs are frozen and shared by every copy of a node, and the
 * tree compares a device's ACL option with the node's text on each update, so the text is built
 * once per ACL; weakly held, it goes with the ACL.
 */
const aclText = new WeakMap<Acl, string>();

export function formatAcl(value: Acl): string {
  let text = aclText.get(value);
  if (text === undefined) {
    text = value.map((e) => `${e.command}=${e.servers.join("+")}`).join("&");
    // Only frozen ACLs (all the tree holds) can be remembered: another array may still change.
    if (
      Object.isFrozen(value) &&
      value.every((e) => Object.isFrozen(e) && Object.isFrozen(e.servers))
    ) {
      aclText.set(value, text);
    }
  }
  return text;
}

/**
 * Whether `principal` may run `command` under this (non-empty, effective) ACL. The wildcard
 * grants any authenticated server; an empty principal (no authenticated server) is granted
 * nothing, not even by `*`.
 */
export function aclPermits(value: Acl, command: AclCommand, principal: string): boolean {
  if (principal === "") return false;
  const entry = value.find((e) => e.command === command);
  if (!entry) return false;
  return entry.servers.includes("*") || entry.servers.includes(principal);
}

/** The ACL that governs a node: its own if it has a value, else the nearest ancestor's. */
export function effectiveAcl(chain: readonly { readonly acl: Acl }[]): Acl {
  for (let i = chain.length - 1; i >= 0; i--) {
    const a = chain[i]!.acl;
    if (a.length > 0) return a;
  }
  return EMPTY_ACL;
}

/** The default root ACL (TND §8.3.7.1.2). */
export const DEFAULT_ROOT_ACL = "Add=*&Get=*";

/** Whether a string can stand as a server identifier in an ACL (not the wildcard). */
export function isServerId(s: string): boolean {
  return SERVER_ID.test(s);
}

/**
 * The ACL a server gets on an interior node it adds without Replace on the parent (§8.3.7.1.3):
 * Add, Delete and Replace for itself. A principal that the grammar cannot name gets no ACL
 * (the node inherits), since no ACL could ever hold it.
 */
export function creatorAcl(principal: string): Acl {
  if (!isServerId(principal)) return EMPTY_ACL;
  return Object.freeze(
    (["Add", "Delete", "Replace"] as const).map((command) =>
      Object.freeze({ command, servers: Object.freeze([principal]) }),
    ),
  );
}
