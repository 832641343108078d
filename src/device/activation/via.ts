import { CARRIER_ID } from "../validate.js";
import { ActivationError } from "./errors.js";

/** Who the device activates through (CONTRACT.md `--via carrier:ID|enterprise:ID`). */
export type Via = { kind: "carrier"; id: string } | { kind: "enterprise"; id: string };

/**
 * `carrier:acme` → `{kind: "carrier", id: "acme"}`; anything else, or a kind `flag` does not
 * take, is VIA_INVALID, worded for `flag` (`--via`, or migrate's `--to`, which takes carriers).
 */
export function parseVia(
  text: string,
  flag = "--via",
  kinds: readonly Via["kind"][] = ["carrier", "enterprise"],
): Via {
  const m = /^(carrier|enterprise):(.+)$/.exec(text);
  if (!m || !kinds.includes(m[1] as Via["kind"]) || !CARRIER_ID.test(m[2]!)) {
    throw new ActivationError(
      "VIA_INVALID",
      `${flag} must be ${kinds.map((k) => `${k}:ID`).join(" or ")} (ID: lowercase letters, digits, dashes), not "${text.slice(0, 80)}"`,
    );
  }
  return { kind: m[1] as Via["kind"], id: m[2]! };
}

export function formatVia(via: Via): string {
  return `${via.kind}:${via.id}`;
}
