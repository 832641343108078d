/**
 * `npm run bench`: every speed figure the issues set a target for, measured on this machine and
 * printed with its target. Speed is judged here, never by a timed unit test.
 */
import { benchActivation } from "./activation.js";
import { benchCodec } from "./codec.js";
import type { Figure } from "./figure.js";
import { benchKeystore } from "./keystore.js";
import { benchSession } from "./session.js";

const suites: Array<[string, () => Promise<Figure[]>]> = [
  ["OMA DM codecs (2 KB message, one core)", benchCodec],
  ["OMA DM sessions (4 packages, authenticated, one process)", benchSession],
  ["Server trusted security zone (software keystore)", benchKeystore],
  ["Activation (full, over HTTP, against up on SQLite)", benchActivation],
];

function format(n: number): string {
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString("en-US");
  // Ratios such as activations/s ÷ hello-world: three figures, not "0.01".
  return n !== 0 && Math.abs(n) < 1 ? n.toPrecision(3) : n.toFixed(2);
}

// `npm run bench -- activation`: only the suites whose title contains one of the words.
const only = process.argv.slice(2).map((w) => w.toLowerCase());
let missed = 0;
for (const [title, run] of suites) {
  if (only.length > 0 && !only.some((w) => title.toLowerCase().includes(w))) continue;
  console.log(`\n${title}`);
  for (const f of await run()) {
    const target =
      f.min !== undefined
        ? `target ≥ ${format(f.min)}`
        : f.max !== undefined
          ? `target ≤ ${format(f.max)}`
          : "";
    const verdict =
      f.min !== undefined
        ? f.value >= f.min
          ? "ok"
          : "BELOW TARGET"
        : f.max !== undefined
          ? f.value <= f.max
            ? "ok"
            : "ABOVE TARGET"
          : "";
    if (verdict.endsWith("TARGET")) missed++;
    console.log(
      `  ${f.name.padEnd(48)} ${format(f.value).padStart(12)} ${f.unit.padEnd(12)} ${target.padEnd(18)} ${verdict}`,
    );
  }
}
console.log(missed === 0 ? "\nall targets met" : `\n${missed} figure(s) off target`);
