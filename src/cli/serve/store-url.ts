/** What `--db` and a config's `db` may be. */
export const STORE_URL_RULE =
  "must be sqlite:PATH or a postgres:// URL (a password's reserved characters percent-encoded)";

/**
 * `sqlite:PATH`, or a `postgres://` URL that parses. Checked where it is given, as a usage
 * error, rather than when the store opens it (a runtime error).
 */
export function isStoreUrl(db: string): boolean {
  if (/^sqlite:.+$/.test(db)) return true;
  if (!/^postgres(ql)?:\/\/.+$/.test(db)) return false;
  try {
    new URL(db);
    return true;
  } catch {
    return false;
  }
}
