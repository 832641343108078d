/**
 * `npm run bench`: every speed figure the issues set a target for, measured on this machine and
 * printed with its target. Speed is judged here, never by a timed unit test.
 */
import { benchCodec } from "./codec.js";
import type { Figure } from "./figure.js";
import { benchKeystore } from "./keystore.js";
import { benchSession } from "./session.js";

const suites: Array<[string, () => Promise<Figure[]>]> = [
  ["OMA DM codecs (2 KB message, one core)", benchCodec],
  ["OMA DM sessions (4 packages, authenticated, one process)", benchSession],
  ["Server trusted security zone (software keystore)", benchKeystore],
];

function format(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(2);
}

let missed = 0;
for (const [title, run] of suites) {
  console.log(`\n${title}`);
  for (const f of await run()) {
    const target = f.min === undefined ? "" : `target ≥ ${format(f.min)}`;
    const verdict = f.min === undefined ? "" : f.value >= f.min ? "ok" : "BELOW TARGET";
    if (verdict === "BELOW TARGET") missed++;
    console.log(
      `  ${f.name.padEnd(48)} ${format(f.value).padStart(12)} ${f.unit.padEnd(12)} ${target.padEnd(18)} ${verdict}`,
    );
  }
}
console.log(missed === 0 ? "\nall targets met" : `\n${missed} figure(s) below target`);
