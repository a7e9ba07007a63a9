// Provider key pools: several provider keys per provider, picked by weight, with cooldowns driven
// by per-attempt outcomes (reported off the hot path). Keys are known only by id here; secrets are
// resolved elsewhere (env / file refs), so nothing this module returns or logs can leak one.
import type { Random } from './deps.ts';
import { pickWeighted } from './weighted-pick.ts';

export interface PoolKey {
  id: string;
  /** Relative share of traffic; default 1. 0 disables the key. */
  weight?: number;
}

export interface KeyPoolOptions {
  /** First 429 cooldown when the provider sent no Retry-After; doubles per consecutive 429. */
  rateLimitBaseMs: number;
  rateLimitMaxMs: number;
  /** 401/403 (revoked or wrong key): much longer, doubling per consecutive failure. */
  authBaseMs: number;
  authMaxMs: number;
  /** Upper bound for a provider's Retry-After, against absurd values. */
  retryAfterMaxMs: number;
}

export const DEFAULT_KEY_POOL_OPTIONS: KeyPoolOptions = {
  rateLimitBaseMs: 1_000,
  rateLimitMaxMs: 60_000,
  authBaseMs: 5 * 60_000,
  authMaxMs: 60 * 60_000,
  retryAfterMaxMs: 10 * 60_000,
};

export type KeyPick = { exhausted: false; keyId: string } | { exhausted: true; until: number };

export interface KeyReport {
  status: number;
  /** Parsed Retry-After header, when the provider sent one. */
  retryAfterSeconds?: number;
  now: number;
}

export type CooldownReason = 'rate_limited' | 'auth_failed';

export interface KeyCooldown {
  keyId: string;
  until: number;
  reason: CooldownReason;
}

interface KeyState {
  id: string;
  weight: number;
  cooldownUntil: number;
  reason?: CooldownReason;
  rateLimitStrikes: number;
  authStrikes: number;
}

function backoff(base: number, max: number, strikes: number): number {
  return Math.min(max, base * Math.pow(2, Math.max(0, strikes - 1)));
}

export class KeyPool {
  readonly #pools = new Map<string, KeyState[]>();
  readonly #random: Random;
  readonly #options: KeyPoolOptions;

  constructor(pools: Record<string, readonly PoolKey[]>, deps: { random: Random }, options: Partial<KeyPoolOptions> = {}) {
    this.#random = deps.random;
    this.#options = { ...DEFAULT_KEY_POOL_OPTIONS, ...options };
    for (const [provider, keys] of Object.entries(pools)) {
      const ids = new Set<string>();
      const states = keys.map((key): KeyState => {
        if (ids.has(key.id)) throw new Error(`key pool "${provider}": duplicate key id "${key.id}"`);
        ids.add(key.id);
        return { id: key.id, weight: key.weight ?? 1, cooldownUntil: 0, rateLimitStrikes: 0, authStrikes: 0 };
      });
      if (!states.some((state) => state.weight > 0)) throw new Error(`key pool "${provider}": no key with a positive weight`);
      this.#pools.set(provider, states);
    }
  }

  has(provider: string): boolean {
    return this.#pools.has(provider);
  }

  /**
   * A key id for one attempt, weighted among keys not cooling down. When every key cools down
   * the answer says until when, so the pipeline fails this attempt fast (429) and Envoy moves on
   * to the chain's next priority.
   */
  pick(provider: string, now: number): KeyPick {
    const states = this.#pools.get(provider);
    if (!states) throw new Error(`no key pool for provider "${provider}"`);
    const weights = states.map((state) => (state.cooldownUntil > now ? 0 : state.weight));
    const index = pickWeighted(weights, this.#random());
    const chosen = states[index];
    if (chosen) return { exhausted: false, keyId: chosen.id };
    let until = Infinity;
    for (const state of states) if (state.weight > 0 && state.cooldownUntil < until) until = state.cooldownUntil;
    return { exhausted: true, until };
  }

  /** 0 when a key is usable now, else when the first one comes back (a pick without consuming). */
  availableAt(provider: string, now: number): number {
    const states = this.#pools.get(provider);
    if (!states) return 0;
    let until = Infinity;
    for (const state of states) {
      if (state.weight <= 0) continue;
      if (state.cooldownUntil <= now) return 0;
      until = Math.min(until, state.cooldownUntil);
    }
    return until;
  }

  /** Feeds one attempt's outcome. Unknown providers or keys (removed by a reload) are ignored. */
  report(provider: string, keyId: string, report: KeyReport): void {
    const state = this.#pools.get(provider)?.find((candidate) => candidate.id === keyId);
    if (!state) return;
    const { status, now } = report;
    // Concurrent attempts fail together: only a failure after the key came back escalates the
    // backoff, a burst of 429s from requests already in flight counts once.
    const coolingNow = state.cooldownUntil > now;
    if (status === 429) {
      if (!coolingNow || state.rateLimitStrikes === 0) state.rateLimitStrikes += 1;
      const retryAfterMs =
        report.retryAfterSeconds !== undefined && report.retryAfterSeconds > 0
          ? Math.min(report.retryAfterSeconds * 1000, this.#options.retryAfterMaxMs)
          : backoff(this.#options.rateLimitBaseMs, this.#options.rateLimitMaxMs, state.rateLimitStrikes);
      this.#coolDown(state, now + retryAfterMs, 'rate_limited');
    } else if (status === 401 || status === 403) {
      if (!coolingNow || state.authStrikes === 0) state.authStrikes += 1;
      this.#coolDown(state, now + backoff(this.#options.authBaseMs, this.#options.authMaxMs, state.authStrikes), 'auth_failed');
    } else if (status >= 200 && status < 400) {
      state.cooldownUntil = 0;
      delete state.reason;
      state.rateLimitStrikes = 0;
      state.authStrikes = 0;
    }
    // 5xx and other 4xx say nothing about the key: the target's health tracks those.
  }

  /** Keys cooling down at `now`, for metrics and the admin view. Ids only. */
  cooldowns(provider: string, now: number): KeyCooldown[] {
    return (this.#pools.get(provider) ?? [])
      .filter((state) => state.cooldownUntil > now && state.reason !== undefined)
      .map((state) => ({ keyId: state.id, until: state.cooldownUntil, reason: state.reason as CooldownReason }));
  }

  #coolDown(state: KeyState, until: number, reason: CooldownReason): void {
    // Never shorten a cooldown already in force (e.g. a late 429 after a 401).
    if (until > state.cooldownUntil) {
      state.cooldownUntil = until;
      state.reason = reason;
    }
  }
}
