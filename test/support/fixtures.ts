import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The team's shared public reference data (../shared beside a working checkout) as vendored
 * into test/fixtures/shared, so a clone anywhere has it: the OMA DM example messages, the
 * identity vectors and CONTRACT.md. test/support/shared-copy.test.ts checks the copy against
 * ../shared wherever that is present.
 */
export const SHARED_FIXTURES = fileURLToPath(new URL("../fixtures/shared/", import.meta.url));
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
