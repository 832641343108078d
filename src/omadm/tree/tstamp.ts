/**
 * The TStamp property (OMA-TS-DM_TND §8.3.7 "TStamp"): date and time of the node's last change,
 * ISO 8601 basic format in UTC, e.g. `20010711T163817Z`.
 */

/** A clock the tree reads for TStamp; tests pass a frozen one. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

export function formatTStamp(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return (
    pad(d.getUTCFullYear(), 4) +
    pad(d.getUTCMonth() + 1) +
    pad(d.getUTCDate()) +
    "T" +
    pad(d.getUTCHours()) +
    pad(d.getUTCMinutes()) +
    pad(d.getUTCSeconds()) +
    "Z"
  );
}
