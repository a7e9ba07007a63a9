import { describe, expect, test } from '@jest/globals';
import { HealthTracker } from '../../../extproc/routing/health.ts';
import { createRouter } from '../../../extproc/routing/router.ts';
import type { Target } from '../../../extproc/routing/target.ts';
import { manualClock, parseConfig, seededRandom, t } from './helpers.ts';

const fast = t('openai', 'gpt-4o');
const slow = t('azure-openai', 'gpt-4o');
const config = parseConfig({
  models: { balanced: { targets: [{ ...fast, weight: 50 }, { ...slow, weight: 50 }] } },
});
const START = Date.parse('2025-06-04T10:00:00Z');

function setup() {
  const clock = manualClock(START);
  const health = new HealthTracker();
  const router = createRouter(config, { clock, random: seededRandom(11), health });
  /** Share of `target` over 2,000 decisions at the current clock. */
  const shareOf = (target: Target): number => {
    let hits = 0;
    for (let i = 0; i < 2000; i++) {
      const decision = router.decide({ model: 'balanced', tags: {}, promptTokens: 10 });
      if (decision.ok && decision.primary.provider === target.provider) hits++;
    }
    return hits / 2000;
  };
  /** One second of traffic: both targets answer, the slow one with the given latency/status. */
  const tick = (slowLatencyMs: number, slowStatus = 200): void => {
    clock.advance(1000);
    health.observe(fast, { latencyMs: 400, status: 200, now: clock.now() });
    health.observe(slow, { latencyMs: slowLatencyMs, status: slowStatus, now: clock.now() });
  };
  return { clock, health, shareOf, tick };
}

describe('HealthTracker shifts weight', () => {
  test('a target whose latency climbs loses share before it returns errors', () => {
    const { health, shareOf, tick } = setup();
    for (let i = 0; i < 20; i++) tick(400);
    const healthyShare = shareOf(slow);
    expect(Math.abs(healthyShare - 0.5)).toBeLessThanOrEqual(0.05);

    // Latency climbs from 400 ms to 1,600 ms over a minute; every response is still a 200.
    for (let i = 1; i <= 60; i++) tick(400 + 20 * i);
    expect(health.snapshot(slow)?.errorRate).toBe(0);
    const slowShare = shareOf(slow);
    expect(slowShare).toBeLessThan(0.25);

    // Then it starts failing: the share falls further, down to the probe floor, never to zero.
    for (let i = 0; i < 30; i++) tick(1600, 503);
    const failingShare = shareOf(slow);
    expect(failingShare).toBeLessThan(slowShare);
    expect(failingShare).toBeGreaterThan(0);
    expect(failingShare).toBeLessThan(0.08);
  });

  test('penalties decay without observations, so an ejected target comes back', () => {
    const { clock, shareOf, tick } = setup();
    for (let i = 0; i < 30; i++) tick(3000, 503);
    expect(shareOf(slow)).toBeLessThan(0.08);
    clock.advance(30_000); // one half-life: partly back
    const halfway = shareOf(slow);
    expect(halfway).toBeGreaterThan(0.15);
    expect(halfway).toBeLessThan(0.4);
    clock.advance(5 * 60_000); // ten more half-lives: fully back
    expect(Math.abs(shareOf(slow) - 0.5)).toBeLessThanOrEqual(0.05);
  });

  test.each<[string, number, number]>([
    ['client errors do not count against the target', 400, 1],
    ['429 counts as a target failure', 429, 0.05],
    ['no response (status 0) counts as a failure', 0, 0.05],
    ['5xx counts as a failure', 502, 0.05],
  ])('%s', (_label, status, expected) => {
    const health = new HealthTracker();
    for (let i = 0; i < 30; i++) health.observe(slow, { latencyMs: 100, status, now: START });
    expect(health.factors([slow], START)[0]).toBeCloseTo(expected, 5);
  });

  test('targets without observations keep full weight; latency compares with the best sibling', () => {
    const health = new HealthTracker();
    health.observe(fast, { latencyMs: 500, status: 200, now: START });
    health.observe(slow, { latencyMs: 1000, status: 200, now: START });
    const [fastFactor, slowFactor, unknownFactor] = health.factors([fast, slow, t('x', 'y')], START);
    expect(fastFactor).toBe(1);
    expect(slowFactor).toBeCloseTo((1.2 * 500 / 1000) ** 2, 5);
    expect(unknownFactor).toBe(1);
  });
});

describe('HealthTracker ignores jitter', () => {
  test('a few milliseconds between two fast targets move no weight; tens of milliseconds do', () => {
    const health = new HealthTracker();
    const a = t('alpha', 'm');
    const b = t('beta', 'm');
    for (let i = 0; i < 50; i++) {
      health.observe(a, { latencyMs: 2, status: 200, now: i });
      health.observe(b, { latencyMs: 6, status: 200, now: i }); // 3x slower, but only 4 ms
    }
    expect(health.factors([a, b], 50)).toEqual([1, 1]);
    for (let i = 50; i < 100; i++) health.observe(b, { latencyMs: 80, status: 200, now: i });
    const [fa, fb] = health.factors([a, b], 100);
    expect(fa).toBe(1);
    expect(fb).toBeLessThan(0.5);
  });
});
