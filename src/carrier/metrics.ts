import { Counter, Histogram, type Registry } from "prom-client";

/**
 * The carrier server's Prometheus metrics (GET /metrics). Several carriers mounted on one app
 * share one registry, so every metric carries a `carrier` label and is created once per
 * registry.
 */
export interface CarrierMetrics {
  /** Activations judged, by verdict. */
  readonly activations: Counter<"carrier" | "verdict">;
  /** Reasons given in denials, one increment per reason. */
  readonly reasons: Counter<"carrier" | "reason">;
  /** Evidence verification, from request to signed verdict. */
  readonly activationSeconds: Histogram<"carrier" | "verdict">;
  /** OMA DM sessions ended, by outcome and whether the profile was applied. */
  readonly dmSessions: Counter<"carrier" | "outcome">;
  /** Every HTTP request, by route pattern. */
  readonly httpSeconds: Histogram<"method" | "route" | "status">;
}

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function carrierMetrics(registry: Registry): CarrierMetrics {
  const registers = [registry];
  return {
    activations: once(
      registry,
      "dmguard_activations_total",
      () =>
        new Counter({
          name: "dmguard_activations_total",
          help: "Activations judged, by verdict",
          labelNames: ["carrier", "verdict"] as const,
          registers,
        }),
    ),
    reasons: once(
      registry,
      "dmguard_activation_reasons_total",
      () =>
        new Counter({
          name: "dmguard_activation_reasons_total",
          help: "Reason codes given in verdicts",
          labelNames: ["carrier", "reason"] as const,
          registers,
        }),
    ),
    activationSeconds: once(
      registry,
      "dmguard_activation_duration_seconds",
      () =>
        new Histogram({
          name: "dmguard_activation_duration_seconds",
          help: "Evidence verification from request to signed verdict",
          labelNames: ["carrier", "verdict"] as const,
          buckets: BUCKETS,
          registers,
        }),
    ),
    dmSessions: once(
      registry,
      "dmguard_dm_sessions_total",
      () =>
        new Counter({
          name: "dmguard_dm_sessions_total",
          help: "OMA DM sessions ended, by outcome",
          labelNames: ["carrier", "outcome"] as const,
          registers,
        }),
    ),
    httpSeconds: once(
      registry,
      "dmguard_http_request_duration_seconds",
      () =>
        new Histogram({
          name: "dmguard_http_request_duration_seconds",
          help: "HTTP requests by route pattern",
          labelNames: ["method", "route", "status"] as const,
          buckets: BUCKETS,
          registers,
        }),
    ),
  };
}
