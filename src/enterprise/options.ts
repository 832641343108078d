import type { JWK } from "jose";
import type { Keystore } from "../keystore/index.js";
import type { Store } from "../store/index.js";
import type { GroupContent } from "./policy/content.js";

/** A value known now, or only once the app listens (`dmguard up` mounts before it has a port). */
export type Lazy<T> = T | (() => T);

/**
 * Where the MDAS forwards a device's evidence, per carrier (issue 5: "configurable per
 * carrier"): the carrier's own server, or the common platform with the enterprise's token.
 * `verdictKey`: the public JWK the upstream signs that carrier's verdicts with, pinned; absent,
 * it is fetched from the upstream's verdict-key route on first use (src/enterprise/README.md).
 */
export type Upstream =
  | { kind: "carrier"; baseUrl: Lazy<string>; verdictKey?: JWK }
  | { kind: "platform"; baseUrl: Lazy<string>; token: Lazy<string>; verdictKey?: JWK };

export interface EnterpriseOptions {
  /** The enterprise id (`initech`): routes live under `/enterprises/{enterpriseId}/`. */
  enterpriseId: string;
  /** The shared store; this enterprise uses `store.part("enterprise:<id>")` only. */
  store: Store;
  /** For DM credentials only (`forOwner("enterprise:<id>")`); the MDAS holds no device key. */
  keystore: Keystore;
  /** Per carrier id. A device of a carrier not listed here is refused with CARRIER_UNKNOWN. */
  upstreams: Record<string, Upstream>;
  /** The carrier a nonce is fetched for when the device does not say (default: the first). */
  defaultCarrier?: string;
  /** User groups and their content; default executive, technology, worker (policy/content.ts). */
  groups?: Record<string, GroupContent>;
  /** Models the enterprise supports; absent or null: every model. */
  allowedModels?: readonly string[] | null;
  clock?: () => number;
  /** The base URL devices reach this server at (for the DM account); default from Host. */
  publicUrl?: string;
  /** For upstream calls; default the global fetch. */
  fetch?: typeof fetch;
  /** Per upstream request, default 15 s. */
  upstreamTimeoutMs?: number;
}
