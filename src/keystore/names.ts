/**
 * The public names the keystore takes: owners (tenants), labels and key ids. All are ASCII with
 * a bounded length, so they are safe to put in error messages, HPKE `info` and file metadata.
 */

/**
 * An owner (tenant): a kind and an optional name, e.g. `operator`, `platform`,
 * `carrier:acme`, `enterprise:initech`.
 */
export const OWNER_PATTERN = /^[a-z][a-z0-9-]{0,31}(?::[A-Za-z0-9][A-Za-z0-9._-]{0,63})?$/;

/** A label of a signing key or secret key, e.g. `verdict-signing`, `tokens/hmac`. */
export const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

/** The fixed label a key check value is computed over: printable ASCII, no NUL. */
export const KCV_LABEL_PATTERN = /^[\x20-\x7e]{1,128}$/;

/** A device key id: random ones are 32 hex characters (128 bits); callers may choose others. */
export const KID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/**
 * The owner of the keystore operator's own keys (the carrier server's verdict key, the
 * platform's token secrets): the `Keystore` methods without an owner argument act for it.
 */
export const OPERATOR_OWNER = "operator";

export function isOwner(v: unknown): v is string {
  return typeof v === "string" && OWNER_PATTERN.test(v);
}

export function isLabel(v: unknown): v is string {
  return typeof v === "string" && LABEL_PATTERN.test(v);
}

export function isKid(v: unknown): v is string {
  return typeof v === "string" && KID_PATTERN.test(v);
}

export function isKcvLabel(v: unknown): v is string {
  return typeof v === "string" && KCV_LABEL_PATTERN.test(v);
}
