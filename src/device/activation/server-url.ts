import { ActivationError } from "./errors.js";

/**
 * The stack's base URL as the device's requests start from it (DEVDIR's, learned at
 * manufacture, or `--server`): an http or https URL, without trailing slashes. Anything else
 * is SERVER_URL_INVALID, which a command line reports as a usage error before it opens the
 * device.
 */
export function serverBase(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ActivationError(
      "SERVER_URL_INVALID",
      `the server URL "${url.slice(0, 200)}" is not a URL`,
    );
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new ActivationError(
      "SERVER_URL_INVALID",
      `the server URL ${u.origin} is not http or https`,
    );
  }
  return url.replace(/\/+$/, "");
}
