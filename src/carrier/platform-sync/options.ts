/** Where and how a carrier keeps its custody record at the common platform up to date. */
export interface PlatformSyncOptions {
  /** The platform's base URL (`…/platform`); a function when it is known only once listening. */
  url: string | (() => string);
  /** The carrier's platform token (scope `custody`); a function when it is read lazily. */
  token: string | (() => string);
  /** First retry delay after a failed delivery (default 1 s); doubles up to `retryMaxMs`. */
  retryBaseMs?: number;
  /** Longest retry delay (default 5 minutes). */
  retryMaxMs?: number;
  /** How often the outbox is looked at when nothing kicks it (default 2 s). */
  pollMs?: number;
  /** One delivery's HTTP timeout (default 10 s). */
  timeoutMs?: number;
}

export const DEFAULT_RETRY_BASE_MS = 1_000;
export const DEFAULT_RETRY_MAX_MS = 5 * 60_000;
export const DEFAULT_POLL_MS = 2_000;
export const DEFAULT_TIMEOUT_MS = 10_000;
