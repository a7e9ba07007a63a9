// Adaptive load balancing input: per-target latency and error-rate EWMAs, fed off the hot path
// (per-attempt outcomes from Envoy's access log) and read when a rule picks among its targets.
//
// factor = latencyFactor x errorFactor, clamped to [floor, 1]:
// - latencyFactor = min(1, (tolerance x best sibling latency / own latency) ^ latencyExponent),
//   so a target slowing down loses share before it starts failing;
// - errorFactor = max(0, 1 - errorPenalty x error rate);
// - both penalties fade with the age of the last observation (half-life `staleHalfLifeMs`), so a
//   target that stopped receiving traffic (because it was penalised or ejected) drifts back to
//   full weight and gets probed again; the floor keeps some probe traffic flowing meanwhile.
import { targetKey } from './target.ts';
import type { Target } from './target.ts';

export interface HealthObservation {
  /** For streams use time to first byte: total duration depends on the output length. */
  latencyMs: number;
  /** Upstream status; 0 for no response (connect failure, reset, timeout without a status). */
  status: number;
  now: number;
}

export interface HealthOptions {
  /** EWMA smoothing per observation: weight of the newest sample. */
  alpha: number;
  /** Latency up to tolerance x best sibling carries no penalty. */
  latencyTolerance: number;
  /**
   * ...nor does latency within this many ms of the best sibling: jitter of a few ms between two
   * equally good targets must not move a configured split (LLM calls take hundreds of ms).
   */
  latencySlackMs: number;
  latencyExponent: number;
  /** Error rate r reduces the factor by errorPenalty x r (r = 0.5 with penalty 2 hits the floor). */
  errorPenalty: number;
  /** Lowest factor, so a recovering target still receives probe traffic. */
  floor: number;
  /** Age after which half of a target's penalty is forgotten. */
  staleHalfLifeMs: number;
}

export const DEFAULT_HEALTH_OPTIONS: HealthOptions = {
  alpha: 0.2,
  latencyTolerance: 1.2,
  latencySlackMs: 25,
  latencyExponent: 2,
  errorPenalty: 2,
  floor: 0.05,
  staleHalfLifeMs: 30_000,
};

/** What the router needs: one multiplier in [floor, 1] per sibling target. */
export interface HealthSource {
  factors(targets: readonly Target[], now: number): number[];
}

export interface TargetHealth {
  /** Undefined until a successful response was observed. */
  latencyMs?: number;
  errorRate: number;
  lastObservedAt: number;
  samples: number;
}

/** Failures that are the target's fault; other 4xx are the client's and count as healthy. */
export function isTargetFailure(status: number): boolean {
  return status === 0 || status === 429 || status >= 500;
}

export class HealthTracker implements HealthSource {
  readonly #options: HealthOptions;
  readonly #targets = new Map<string, TargetHealth>();

  constructor(options: Partial<HealthOptions> = {}) {
    this.#options = { ...DEFAULT_HEALTH_OPTIONS, ...options };
  }

  observe(target: Target, observation: HealthObservation): void {
    const key = targetKey(target);
    const { alpha } = this.#options;
    const failed = isTargetFailure(observation.status);
    const state = this.#targets.get(key);
    if (!state) {
      const fresh: TargetHealth = { errorRate: failed ? 1 : 0, lastObservedAt: observation.now, samples: 1 };
      if (!failed && observation.status < 400) fresh.latencyMs = observation.latencyMs;
      this.#targets.set(key, fresh);
      return;
    }
    state.errorRate = state.errorRate + alpha * ((failed ? 1 : 0) - state.errorRate);
    // Latency only from successes: failures are often instant (refused) or capped (timeouts)
    // and would distort it; their cost shows in the error rate instead.
    if (!failed && observation.status < 400) {
      state.latencyMs =
        state.latencyMs === undefined
          ? observation.latencyMs
          : state.latencyMs + alpha * (observation.latencyMs - state.latencyMs);
    }
    state.lastObservedAt = Math.max(state.lastObservedAt, observation.now);
    state.samples += 1;
  }

  /** Read-only copy of one target's state (explain output, metrics). */
  snapshot(target: Target): TargetHealth | undefined {
    const state = this.#targets.get(targetKey(target));
    return state ? { ...state } : undefined;
  }

  factors(targets: readonly Target[], now: number): number[] {
    const { floor, latencyTolerance, latencySlackMs, latencyExponent, errorPenalty, staleHalfLifeMs } = this.#options;
    const states = targets.map((target) => this.#targets.get(targetKey(target)));
    let best = Infinity;
    for (const state of states) {
      if (state?.latencyMs !== undefined && state.latencyMs < best) best = state.latencyMs;
    }
    return states.map((state) => {
      if (!state) return 1;
      const age = Math.max(0, now - state.lastObservedAt);
      const freshness = Math.pow(0.5, age / staleHalfLifeMs);
      let latencyFactor = 1;
      if (state.latencyMs !== undefined && state.latencyMs > 0 && Number.isFinite(best)) {
        const allowed = Math.max(latencyTolerance * best, best + latencySlackMs);
        latencyFactor = Math.min(1, Math.pow(allowed / state.latencyMs, latencyExponent));
      }
      const errorFactor = Math.max(0, 1 - errorPenalty * state.errorRate);
      const penalised = latencyFactor * errorFactor;
      const factor = 1 - (1 - penalised) * freshness;
      return Math.min(1, Math.max(floor, factor));
    });
  }
}
