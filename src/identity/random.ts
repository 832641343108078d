import { randomInt } from "node:crypto";
import { IdentityError } from "./errors.js";

/**
 * A source of uniform random integers in `[0, maxExclusive)`. The default draws from
 * node:crypto (`randomInt`); tests inject a deterministic one.
 */
export type RandomInt = (maxExclusive: number) => number;

export const cryptoRandomInt: RandomInt = (maxExclusive) => randomInt(maxExclusive);

/** Draws from `rng` and refuses anything but an integer in range. */
export function draw(rng: RandomInt, maxExclusive: number): number {
  const n = rng(maxExclusive);
  if (!Number.isInteger(n) || n < 0 || n >= maxExclusive) {
    throw new IdentityError(
      "RANDOM_INVALID",
      `random source returned ${String(n)}, expected an integer in [0, ${maxExclusive})`,
    );
  }
  return n;
}
