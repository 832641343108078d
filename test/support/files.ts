import { stat } from "node:fs/promises";

/** Whether a file or folder is there (what crash and settle tests look for after the fact). */
export function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
