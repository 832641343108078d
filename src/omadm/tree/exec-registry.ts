/**
 * Executable nodes. The Exec command (OMA-TS-DM_RepPro §6.6.6) runs whatever the device has
 * bound to a node; the tree holds those bindings. A pattern is a canonical URI in which a `*`
 * segment matches any one node name, so one pattern with `*` in place of a FUMO instance name
 * serves every instance a server adds later. The most specific binding wins (fewest
 * wildcards, then first registered).
 * Bindings are device code, not tree data: snapshots do not include them.
 */
import type { ItemData } from "../model/message.js";
import { TreeError } from "./tree-error.js";
import { checkSegment } from "./uri.js";

export interface ExecRequest {
  /** Canonical URI of the executed node (`./A/B`). */
  readonly uri: string;
  readonly data: ItemData | undefined;
  /** The Exec's Correlator, to quote in a later Generic Alert (OMA-TS-DM_Protocol §8.7). */
  readonly correlator: string | undefined;
  /** The ServerID that sent the Exec. */
  readonly principal: string;
}

/**
 * Runs synchronously and returns the status for the Exec (200 when nothing is returned;
 * 202 Accepted for processing when the work goes on in the background). A throw is (500).
 */
export type ExecHandler = (request: ExecRequest) => number | undefined;

interface Binding {
  readonly pattern: readonly string[];
  readonly wildcards: number;
  readonly handler: ExecHandler;
}

const NO_LIMITS = { maxDepth: 0, maxTotLen: 0, maxSegLen: 0 };

export class ExecRegistry {
  #bindings: Binding[] = [];

  /** Binds a handler; returns a function that removes the binding. */
  register(pattern: string, handler: ExecHandler): () => void {
    const segments = patternSegments(pattern);
    const binding: Binding = {
      pattern: segments,
      wildcards: segments.filter((s) => s === "*").length,
      handler,
    };
    this.#bindings.push(binding);
    return () => {
      this.#bindings = this.#bindings.filter((b) => b !== binding);
    };
  }

  find(segments: readonly string[]): ExecHandler | undefined {
    let best: Binding | undefined;
    for (const b of this.#bindings) {
      if (b.pattern.length !== segments.length) continue;
      if (!b.pattern.every((p, i) => p === "*" || p === segments[i])) continue;
      if (!best || b.wildcards < best.wildcards) best = b;
    }
    return best?.handler;
  }
}

function patternSegments(pattern: string): string[] {
  const rest = pattern === "." ? "" : pattern.startsWith("./") ? pattern.slice(2) : pattern;
  const segments = rest === "" ? [] : rest.split("/");
  for (const s of segments) {
    if (s === "*") continue;
    const bad = checkSegment(s, NO_LIMITS);
    if (bad) throw new TreeError("BAD_URI", bad.status, pattern, `bad exec pattern: ${bad.reason}`);
  }
  return segments;
}
