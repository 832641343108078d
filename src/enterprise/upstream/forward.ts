import { isReasonCode, type ReasonCode } from "../../evidence/index.js";
import { fetchWithTimeout } from "../../omadm/http/timed-fetch.js";
import type { EnterpriseContext } from "../context.js";
import { EnterpriseError } from "../errors.js";
import type { Lazy, Upstream } from "../options.js";

/** What the carrier server or the platform said about the device's integrity. */
export interface IntegrityAnswer {
  /** `carrier:acme` or `platform`: who judged. */
  by: string;
  decision: "approved" | "denied";
  reasons: ReasonCode[];
  /** The signed verdict for the device's TSZ, passed on as received. */
  verdict: string;
  imei: string;
  nonce: string;
}

const MAX_ANSWER_CHARS = 256 * 1024;
const get = <T>(v: Lazy<T>): T => (typeof v === "function" ? (v as () => T)() : v);

export function upstreamFor(ctx: EnterpriseContext, carrier: string | null): Upstream {
  const u = carrier === null ? undefined : ctx.upstreams[carrier];
  if (!u || !Object.hasOwn(ctx.upstreams, carrier!)) {
    throw new EnterpriseError(
      "CARRIER_UNKNOWN",
      "this enterprise does not activate devices of that carrier",
    );
  }
  return u;
}

function urls(u: Upstream, carrier: string): { nonce: string; evidence: string; by: string } {
  const base = get(u.baseUrl).replace(/\/+$/, "");
  if (u.kind === "carrier") {
    const c = `${base}/carriers/${encodeURIComponent(carrier)}/activation`;
    return { nonce: `${c}/nonce`, evidence: `${c}/evidence`, by: `carrier:${carrier}` };
  }
  const p = `${base}/platform/verifications`;
  return { nonce: `${p}/nonce`, evidence: p, by: "platform" };
}

async function post(
  ctx: EnterpriseContext,
  u: Upstream,
  url: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
  };
  if (u.kind === "platform") headers.authorization = `Bearer ${get(u.token)}`;
  let status: number;
  let text: string;
  try {
    ({ status, text } = await fetchWithTimeout(
      ctx.fetch,
      url,
      { method: "POST", headers, body: JSON.stringify(body) },
      ctx.upstreamTimeoutMs,
      async (res) => ({ status: res.status, text: await res.text() }),
    ));
  } catch {
    throw new EnterpriseError("UPSTREAM_UNAVAILABLE", `the ${u.kind} server could not be reached`);
  }
  let json: unknown = null;
  try {
    json = text.length <= MAX_ANSWER_CHARS ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  const rec = typeof json === "object" && json !== null ? (json as Record<string, unknown>) : null;
  if (status >= 200 && status < 300 && rec) return rec;
  const code = (rec?.error as { code?: unknown } | undefined)?.code;
  // Malformed evidence is the device's fault, not the MDAS's: say so in the same words.
  if (code === "EVIDENCE_MALFORMED") {
    throw new EnterpriseError(
      "EVIDENCE_MALFORMED",
      "the evidence is not a compact JWS of the documented shape",
    );
  }
  throw new EnterpriseError("UPSTREAM_REFUSED", `the ${u.kind} server refused the request`, {
    status,
    ...(typeof code === "string" ? { code } : {}),
  });
}

/** A one-time nonce from the upstream that will judge the evidence (it must consume it). */
export async function upstreamNonce(
  ctx: EnterpriseContext,
  carrier: string,
): Promise<{ nonce: string; expiresAt: string }> {
  const u = upstreamFor(ctx, carrier);
  const r = await post(ctx, u, urls(u, carrier).nonce, {});
  if (typeof r.nonce !== "string" || typeof r.expiresAt !== "string") {
    throw new EnterpriseError("UPSTREAM_UNAVAILABLE", `the ${u.kind} server sent no nonce`);
  }
  return { nonce: r.nonce, expiresAt: r.expiresAt };
}

/**
 * Forwards the evidence unchanged (the patent's "forward the received security key [proof] and
 * equipment identification number") and reads the integrity verdict. The carrier's answer also
 * carries its DM account; the MDAS drops it unread (it provisions through its own DM server).
 */
export async function upstreamVerify(
  ctx: EnterpriseContext,
  carrier: string,
  evidence: string,
): Promise<IntegrityAnswer> {
  const u = upstreamFor(ctx, carrier);
  const { evidence: url, by } = urls(u, carrier);
  const r = await post(ctx, u, url, { evidence });
  const reasons = Array.isArray(r.reasons) ? r.reasons : null;
  if (
    typeof r.verdict !== "string" ||
    (r.decision !== "approved" && r.decision !== "denied") ||
    !reasons?.every(isReasonCode) ||
    typeof r.imei !== "string" ||
    typeof r.nonce !== "string"
  ) {
    throw new EnterpriseError(
      "UPSTREAM_UNAVAILABLE",
      `the ${u.kind} server's answer is not a verdict`,
    );
  }
  return {
    by,
    decision: r.decision,
    reasons: reasons as ReasonCode[],
    verdict: r.verdict,
    imei: r.imei,
    nonce: r.nonce,
  };
}
