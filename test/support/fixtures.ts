import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The shared public reference data, laid beside the checkout (../shared) in sessions and CI. */
export const SHARED_FIXTURES = fileURLToPath(new URL("../../../shared/fixtures/", import.meta.url));
export const OMADM_FIXTURES = `${SHARED_FIXTURES}omadm/`;

export function omadmFixtures(): Array<{ name: string; path: string; text: string }> {
  return readdirSync(OMADM_FIXTURES)
    .filter((f) => f.endsWith(".xml"))
    .sort()
    .map((name) => {
      const path = OMADM_FIXTURES + name;
      return { name, path, text: readFileSync(path, "utf8") };
    });
}
