/**
 * `system/build.prop`, Android's `key=value` property file. Root detection reads three of its
 * properties: `ro.build.tags` (release-keys vs test-keys: which key signed the build),
 * `ro.debuggable` and `ro.secure` (whether adb may run as root).
 */
export type BuildProps = ReadonlyMap<string, string>;

/** Properties in file order; `#` comments and blank lines skipped; a later key wins. */
export function parseBuildProp(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    out.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return out;
}

/** `text` with `key` set to `value`: every line of the key replaced, or one line appended. */
export function setBuildProp(text: string, key: string, value: string): string {
  const lines = text.split("\n");
  let found = false;
  const out = lines.map((line) => {
    const eq = line.indexOf("=");
    if (eq > 0 && !line.trimStart().startsWith("#") && line.slice(0, eq).trim() === key) {
      found = true;
      return `${key}=${value}`;
    }
    return line;
  });
  if (found) return out.join("\n");
  const body = text.endsWith("\n") || text === "" ? text : `${text}\n`;
  return `${body}${key}=${value}\n`;
}

/** The factory build.prop of a release build for `model`. */
export function factoryBuildProp(model: string, brand: string): string {
  return [
    "# dmguard emulated device: build properties (as shipped)",
    `ro.product.model=${model}`,
    `ro.product.brand=${brand}`,
    `ro.product.manufacturer=${brand}`,
    "ro.build.type=user",
    "ro.build.tags=release-keys",
    "ro.build.version.release=14",
    "ro.debuggable=0",
    "ro.secure=1",
    "",
  ].join("\n");
}
