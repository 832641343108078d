// fast-check arbitraries and helpers shared by the identity tests.
import fc from "fast-check";
import { IdentityError, type IdentityErrorCode, type RandomInt } from "../../src/identity/index.js";

export const decimalDigits = (n: number): fc.Arbitrary<string> =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((a) => a.join(""));

export const hexDigits = (n: number): fc.Arbitrary<string> =>
  fc
    .array(fc.integer({ min: 0, max: 15 }), { minLength: n, maxLength: n })
    .map((a) => a.map((d) => d.toString(16).toUpperCase()).join(""));

/** A random source replaying `values` (each reduced modulo the requested range). */
export function replay(values: readonly number[]): RandomInt {
  let i = 0;
  return (max) => (values[i++ % values.length] ?? 0) % max;
}

export const seeds = fc.array(fc.nat(), { minLength: 1, maxLength: 8 });

/** Replaces the character at `index` with a different one from `alphabet`, chosen by `shift`. */
export function changeDigit(s: string, index: number, shift: number, alphabet: string): string {
  const at = alphabet.indexOf(s[index]!);
  const next = alphabet[(at + 1 + (shift % (alphabet.length - 1))) % alphabet.length]!;
  return s.slice(0, index) + next + s.slice(index + 1);
}

export function throwsCode(fn: () => unknown, code: IdentityErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  if (!(caught instanceof IdentityError) || caught.code !== code) {
    throw new Error(`expected IdentityError ${code}, got ${String(caught)}`);
  }
}
