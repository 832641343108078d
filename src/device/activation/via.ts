import { CARRIER_ID } from "../validate.js";
import { ActivationError } from "./errors.js";

/** Who the device activates through (CONTRACT.md `--via carrier:ID|enterprise:ID`). */
export type Via = { kind: "carrier"; id: string } | { kind: "enterprise"; id: string };

/** `carrier:acme` → `{kind: "carrier", id: "acme"}`; anything else is VIA_INVALID. */
export function parseVia(text: string): Via {
  const m = /^(carrier|enterprise):(.+)$/.exec(text);
  if (!m || !CARRIER_ID.test(m[2]!)) {
    throw new ActivationError(
      "VIA_INVALID",
      `--via must be carrier:ID or enterprise:ID (ID: lowercase letters, digits, dashes), not "${text.slice(0, 80)}"`,
    );
  }
  return { kind: m[1] as Via["kind"], id: m[2]! };
}

export function formatVia(via: Via): string {
  return `${via.kind}:${via.id}`;
}
