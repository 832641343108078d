import { fetchWithTimeout } from "../../omadm/http/timed-fetch.js";
import { networkCause } from "../normal/dm-net.js";
import { isRecord, NONCE } from "../validate.js";
import { ActivationError } from "./errors.js";
import { serverBase } from "./server-url.js";

/**
 * The carrier's activation routes as a phone calls them over HTTP (src/carrier/README.md;
 * the device never imports the carrier): `POST /carriers/{id}/activation/nonce` and
 * `POST /carriers/{id}/activation/evidence`. With `enterprise`, the same two routes of an MDAS
 * (`/enterprises/{id}/activation/…`, src/enterprise/README.md), whose answer has the carrier's
 * shape; its nonce request names the carrier, since the nonce comes from whoever will judge.
 * Every failure is an ActivationError with the route in its message.
 */
export interface CarrierApiOptions {
  /** The stack's base URL (DEVDIR's, learned at manufacture, or `--server`). */
  baseUrl: string;
  carrier: string;
  /** Activate through this enterprise's MDAS instead of the carrier's server. */
  enterprise?: string;
  /** Per request, default 30 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** `migration`: the carrier's `/migration/nonce` and `/migration/evidence` (same shapes). */
  flow?: "activation" | "migration";
}

/** The answer to the evidence (`verdictResponse` in the carrier's OpenAPI document). */
export interface VerdictResponse {
  /** The signed verdict for the TSZ (compact JWS). */
  verdict: string;
  decision: "approved" | "denied";
  reasons: string[];
  networkAccess: "full" | "limited";
  carrier: string;
  /** The DM account for the profile session, unchecked here (the DM client checks it); or null. */
  dmAccount: unknown;
}

/** Larger answers are not what these routes send; reading stops there. */
const MAX_BODY_BYTES = 256 * 1024;

export class CarrierActivationApi {
  readonly #base: string;
  readonly #carrier: string;
  /** `carrier acme` or `enterprise initech`, for messages. */
  readonly #who: string;
  readonly #enterprise: boolean;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #flow: "activation" | "migration";

  constructor(opts: CarrierApiOptions) {
    const e = opts.enterprise;
    this.#base =
      e === undefined
        ? `${serverBase(opts.baseUrl)}/carriers/${encodeURIComponent(opts.carrier)}`
        : `${serverBase(opts.baseUrl)}/enterprises/${encodeURIComponent(e)}`;
    this.#carrier = opts.carrier;
    this.#who = e === undefined ? `carrier ${opts.carrier}` : `enterprise ${e}`;
    this.#enterprise = e !== undefined;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#fetch = opts.fetch ?? fetch;
    this.#flow = opts.flow ?? "activation";
  }

  /** A fresh one-time nonce (DESIGN.md step 4); `imei` only labels the request in the log. */
  async nonce(imei?: string): Promise<string> {
    const path = `/${this.#flow}/nonce`;
    const body = await this.#post(path, {
      ...(this.#enterprise ? { carrier: this.#carrier } : {}),
      ...(imei ? { imei } : {}),
    });
    if (!isRecord(body) || typeof body.nonce !== "string" || !NONCE.test(body.nonce)) {
      throw this.#invalid(path, "no nonce");
    }
    return body.nonce;
  }

  /** Submits signed evidence; the server's verdict (DESIGN.md step 5). */
  async submitEvidence(evidence: string): Promise<VerdictResponse> {
    const path = `/${this.#flow}/evidence`;
    const b = await this.#post(path, { evidence });
    if (
      !isRecord(b) ||
      typeof b.verdict !== "string" ||
      (b.decision !== "approved" && b.decision !== "denied") ||
      !Array.isArray(b.reasons) ||
      !b.reasons.every((r) => typeof r === "string") ||
      (b.networkAccess !== "full" && b.networkAccess !== "limited") ||
      typeof b.carrier !== "string"
    ) {
      throw this.#invalid(path, "not a verdict");
    }
    return {
      verdict: b.verdict,
      decision: b.decision,
      reasons: b.reasons as string[],
      networkAccess: b.networkAccess,
      carrier: b.carrier,
      dmAccount: b.dmAccount ?? null,
    };
  }

  #invalid(path: string, what: string): ActivationError {
    return new ActivationError(
      "SERVER_RESPONSE_INVALID",
      `${this.#who} answered POST ${this.#base}${path} with ${what}`,
    );
  }

  async #post(path: string, json: unknown): Promise<unknown> {
    const url = `${this.#base}${path}`;
    let status: number;
    let text: string | null;
    try {
      // The body is read within the timeout too; a failure there (timeout, connection cut) is
      // the server not reached, like one before the headers.
      ({ status, text } = await fetchWithTimeout(
        this.#fetch,
        url,
        {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify(json),
        },
        this.#timeoutMs,
        async (res) => ({ status: res.status, text: await readLimited(res) }),
      ));
    } catch (err) {
      const cause = networkCause(err) ?? (err instanceof Error ? err.message : String(err));
      throw new ActivationError(
        "SERVER_UNREACHABLE",
        `cannot reach ${this.#who} at ${url}: ${cause}`,
      );
    }
    if (status < 200 || status > 299) {
      throw new ActivationError(
        "SERVER_REFUSED",
        `${this.#who} answered HTTP ${status} to POST ${url}${describeError(text)}`,
        status,
      );
    }
    try {
      return JSON.parse(text ?? "");
    } catch {
      throw this.#invalid(path, "a body that is not JSON");
    }
  }
}

/** The body as text, or null when it is larger than MAX_BODY_BYTES. */
async function readLimited(res: Response): Promise<string | null> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      return null;
    }
    parts.push(value);
  }
  return Buffer.concat(parts, size).toString("utf8");
}

/** `: CODE: message` from the server's error body (`{error: {code, message}}`), if it has one. */
function describeError(text: string | null): string {
  try {
    const e = (JSON.parse(text ?? "") as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof e?.code === "string" && typeof e.message === "string") {
      return `: ${e.code}: ${e.message.replace(/\s+/g, " ").slice(0, 200)}`;
    }
  } catch {
    // Not the carrier's error body: the status says enough.
  }
  return "";
}
