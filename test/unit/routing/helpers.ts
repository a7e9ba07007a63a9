// Test doubles for the routing module's injected dependencies.
import { routerConfigSchema } from '../../../extproc/routing/schema.ts';
import type { RouterConfig } from '../../../extproc/routing/schema.ts';
import type { HealthSource } from '../../../extproc/routing/health.ts';
import type { Target } from '../../../extproc/routing/target.ts';

/** mulberry32: a small seeded PRNG, so statistical tests are deterministic. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ManualClock {
  now(): number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function manualClock(start: number): ManualClock {
  let current = start;
  return {
    now: () => current,
    set: (ms) => {
      current = ms;
    },
    advance: (ms) => {
      current += ms;
    },
  };
}

/** Health that never adjusts anything: isolates rule and weight logic. */
export const neutralHealth: HealthSource = {
  factors: (targets: readonly Target[]) => targets.map(() => 1),
};

/** Parses through the real schema, as config loading does. */
export function parseConfig(raw: unknown): RouterConfig {
  return routerConfigSchema.parse(raw);
}

export const t = (provider: string, model: string): Target => ({ provider, model });
