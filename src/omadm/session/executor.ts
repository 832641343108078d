/**
 * Executes a server's management commands against the client's tree (OMA-TS-DM_Protocol §2.3.5,
 * OMA-TS-DM_RepPro §6.6): a Status per command (per item when items differ), Results for Get,
 * Atomic all-or-nothing (507 with 216 for each rolled-back command and 215 for those not run,
 * 516 when the rollback itself fails), Sequence in order, user-interaction alerts (§2.5.2:
 * a "no" stops a Sequence and fails an Atomic, a cancel stops the whole message with 215).
 * An application hook may answer a command before it reaches the tree (e.g. 425).
 */
import type {
  Alert,
  Command,
  Container,
  Exec,
  Get,
  Item,
  ItemCommand,
  ItemData,
  Results,
} from "../model/message.js";
import { isSuccess, StatusCode } from "../status.js";
import type { ManagementTree } from "../tree/types.js";
import { alertCode, commandStatus, type StatusDraft } from "./envelope.js";
import type { Draft } from "./packer.js";
import type { Awaitable } from "./types.js";
import {
  defaultUiAnswer,
  isUiAlert,
  parseUiAlert,
  type UiAnswer,
  type UiRequest,
  uiStatus,
} from "./ui-alerts.js";

export type TreeCommand = ItemCommand | Get | Exec;

export interface ExecutorHooks {
  /**
   * Called for every item of Add, Replace, Delete, Copy, Get and Exec before the tree sees it;
   * a number answers the item with that status instead (e.g. 425 permission denied).
   */
  beforeCommand?(
    command: TreeCommand,
    item: Item,
    principal: string,
  ): Awaitable<number | undefined>;
  /** Decides a user-interaction alert; without it, the DR default response or no/cancel. */
  onUserInteraction?(request: UiRequest): Awaitable<UiAnswer>;
}

export interface ExecEnv {
  readonly tree: ManagementTree;
  readonly principal: string;
  readonly msgRef: string;
  readonly hooks: ExecutorHooks;
  /** Set when the user cancelled: everything after is 215 (§2.5.2). */
  cancelled: boolean;
}

export interface Outcome {
  /** Status and Results drafts in the order they answer. */
  readonly drafts: Draft[];
  readonly failed: boolean;
  /** A 1101 confirmation answered "no" (304). */
  readonly rejected: boolean;
}

const OK: Outcome = { drafts: [], failed: false, rejected: false };

export async function execute(env: ExecEnv, cmd: Command): Promise<Outcome> {
  return executeNow(env, cmd);
}

/**
 * `execute`, answering at once when nothing had to be waited for: a tree command with no
 * `beforeCommand` hook runs synchronously (see settle.ts); the rest return a promise.
 */
export function executeNow(env: ExecEnv, cmd: Command): Outcome | Promise<Outcome> {
  if (env.cancelled) return notExecuted(env, cmd);
  switch (cmd.kind) {
    case "Add":
    case "Replace":
    case "Delete":
    case "Copy":
    case "Get":
    case "Exec":
      return env.hooks.beforeCommand === undefined ? runItemsNow(env, cmd) : runItems(env, cmd);
    case "Alert":
      return runAlert(env, cmd);
    case "Atomic":
      return runAtomic(env, cmd);
    case "Sequence":
      return runSequence(env, cmd);
    default:
      return OK;
  }
}

/**
 * Appends the Status for `cmd` unless it asked for none. Avoids spreading the one-or-none array
 * of `status`: spreads of short arrays in the executor's hot path were a cost of their own.
 */
function pushStatus(
  out: Draft[],
  env: ExecEnv,
  cmd: Command,
  code: number,
  extra?: Parameters<typeof commandStatus>[3],
): void {
  if (!("noResp" in cmd && cmd.noResp)) out.push(commandStatus(env.msgRef, cmd, code, extra));
}

function status(
  env: ExecEnv,
  cmd: Command,
  code: number,
  extra?: Parameters<typeof commandStatus>[3],
): Draft[] {
  return "noResp" in cmd && cmd.noResp ? [] : [commandStatus(env.msgRef, cmd, code, extra)];
}

/** 215 for a command and everything inside it. */
export function notExecuted(env: ExecEnv, cmd: Command): Outcome {
  const drafts: Draft[] = [...status(env, cmd, StatusCode.NOT_EXECUTED)];
  if (cmd.kind === "Atomic" || cmd.kind === "Sequence") {
    for (const c of cmd.commands) drafts.push(...notExecuted(env, c).drafts);
  }
  return { drafts, failed: false, rejected: false };
}

function itemsOf(cmd: TreeCommand): readonly Item[] {
  return cmd.kind === "Exec" ? [cmd.item] : cmd.items;
}

async function runItems(env: ExecEnv, cmd: TreeCommand): Promise<Outcome> {
  const items = itemsOf(cmd);
  const codes: number[] = [];
  const resultItems: Item[] = [];
  for (const item of items) {
    const veto = await env.hooks.beforeCommand?.(cmd, item, env.principal);
    if (veto !== undefined) {
      codes.push(veto);
      continue;
    }
    codes.push(applyItem(env, cmd, item, resultItems));
  }
  return itemsOutcome(env, cmd, items, codes, resultItems);
}

/** runItems without a beforeCommand hook: nothing to wait for. */
function runItemsNow(env: ExecEnv, cmd: TreeCommand): Outcome {
  const items = itemsOf(cmd);
  const codes: number[] = [];
  const resultItems: Item[] = [];
  for (const item of items) codes.push(applyItem(env, cmd, item, resultItems));
  return itemsOutcome(env, cmd, items, codes, resultItems);
}

/** The Status (one, or one per item when their codes differ) and Results of a tree command. */
function itemsOutcome(
  env: ExecEnv,
  cmd: TreeCommand,
  items: readonly Item[],
  codes: number[],
  resultItems: Item[],
): Outcome {
  if (codes.length === 0) codes.push(StatusCode.INCOMPLETE_COMMAND);
  // Pushed one by one rather than spread: see pushStatus.
  const drafts: Draft[] = [];
  const first = codes[0]!;
  if (codes.every((c) => c === first)) {
    pushStatus(drafts, env, cmd, first);
  } else {
    for (let i = 0; i < items.length; i++) {
      pushStatus(drafts, env, cmd, codes[i]!, { refItems: [items[i]!] });
    }
  }
  if (cmd.kind === "Get" && resultItems.length > 0) {
    const targetRef = items.length === 1 ? items[0]!.target?.locUri : undefined;
    const results = { kind: "Results", msgRef: env.msgRef, cmdRef: cmd.cmdId } as {
      -readonly [K in keyof Omit<Results, "cmdId">]: Omit<Results, "cmdId">[K];
    };
    if (targetRef !== undefined) results.targetRef = targetRef;
    results.items = resultItems;
    drafts.push(results);
  }
  return { drafts, failed: codes.some((c) => !isSuccess(c)), rejected: false };
}

/** One item against the tree; tree faults become 500 rather than ending the session. */
function applyItem(env: ExecEnv, cmd: TreeCommand, item: Item, resultItems: Item[]): number {
  const target = item.target?.locUri;
  if (target === undefined) return StatusCode.INCOMPLETE_COMMAND;
  const { tree, principal } = env;
  try {
    switch (cmd.kind) {
      case "Add":
      case "Replace": {
        const format = item.meta?.format ?? cmd.meta?.format;
        const type = item.meta?.type ?? cmd.meta?.type;
        const node: { format?: string; type?: string; data?: ItemData } = {};
        if (format !== undefined) node.format = format;
        if (type !== undefined) node.type = type;
        if (item.data !== undefined) node.data = item.data;
        return cmd.kind === "Add"
          ? tree.add(target, node, principal)
          : tree.replace(target, node, principal);
      }
      case "Delete":
        return tree.delete(target, principal);
      case "Copy": {
        const source = item.source?.locUri;
        if (source === undefined) return StatusCode.INCOMPLETE_COMMAND;
        return tree.copy(target, source, principal);
      }
      case "Get": {
        const out = tree.get(target, principal);
        if (isSuccess(out.status)) for (const it of out.items) resultItems.push(it);
        return out.status;
      }
      case "Exec":
        return tree.exec(target, item.data, cmd.correlator, principal);
    }
  } catch {
    return StatusCode.COMMAND_FAILED;
  }
  return StatusCode.COMMAND_FAILED;
}

async function runAlert(env: ExecEnv, cmd: Alert): Promise<Outcome> {
  const code = alertCode(cmd);
  if (!isUiAlert(code)) {
    return {
      drafts: status(env, cmd, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED),
      failed: true,
      rejected: false,
    };
  }
  const req = parseUiAlert(cmd);
  const answer = env.hooks.onUserInteraction
    ? await env.hooks.onUserInteraction(req)
    : defaultUiAnswer(req);
  const ui = uiStatus(req, answer);
  if (ui.code === StatusCode.OPERATION_CANCELLED) env.cancelled = true;
  return {
    drafts: status(env, cmd, ui.code, { items: ui.items }),
    failed: ui.code === StatusCode.OPERATION_CANCELLED,
    rejected: ui.code === StatusCode.NOT_MODIFIED,
  };
}

async function runSequence(env: ExecEnv, cmd: Container): Promise<Outcome> {
  const nested: Draft[] = [];
  let stopped = false;
  let failed = false;
  for (const c of cmd.commands) {
    if (stopped) {
      nested.push(...notExecuted(env, c).drafts);
      continue;
    }
    const o = await execute(env, c);
    nested.push(...o.drafts);
    failed ||= o.failed;
    // §2.5.2.2: after a "no" the rest of the Sequence is bypassed.
    if (o.rejected) stopped = true;
  }
  return { drafts: [...status(env, cmd, StatusCode.OK), ...nested], failed, rejected: false };
}

async function runAtomic(env: ExecEnv, cmd: Container): Promise<Outcome> {
  const snapshot = env.tree.snapshot();
  const nested: Draft[] = [];
  let failed = false;
  for (const c of cmd.commands) {
    if (failed) {
      nested.push(...notExecuted(env, c).drafts);
      continue;
    }
    const o = await execute(env, c);
    nested.push(...o.drafts);
    if (o.failed || o.rejected || env.cancelled) failed = true;
  }
  if (!failed)
    return {
      drafts: [...status(env, cmd, StatusCode.OK), ...nested],
      failed: false,
      rejected: false,
    };
  let code: number = StatusCode.ATOMIC_FAILED;
  try {
    env.tree.restore(snapshot);
  } catch {
    code = StatusCode.ATOMIC_ROLLBACK_FAILED;
  }
  const rolledBack: Draft[] = [];
  for (const d of nested) {
    if (d.kind === "Results") continue; // nothing of a failed Atomic is reported as done
    if (
      d.kind === "Status" &&
      code === StatusCode.ATOMIC_FAILED &&
      isSuccess(d.code) &&
      d.code !== StatusCode.NOT_EXECUTED
    ) {
      rolledBack.push({ ...(d as StatusDraft), code: StatusCode.ATOMIC_ROLLBACK_OK });
    } else {
      rolledBack.push(d);
    }
  }
  return { drafts: [...status(env, cmd, code), ...rolledBack], failed: true, rejected: false };
}
