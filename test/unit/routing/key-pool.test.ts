import { describe, expect, test } from '@jest/globals';
import { KeyPool } from '../../../extproc/routing/key-pool.ts';
import type { KeyPick } from '../../../extproc/routing/key-pool.ts';
import { seededRandom } from './helpers.ts';

const T0 = 1_750_000_000_000;
const keyOf = (pick: KeyPick): string => (pick.exhausted ? 'EXHAUSTED' : pick.keyId);

function pool() {
  return new KeyPool(
    {
      openai: [{ id: 'oa-1', weight: 3 }, { id: 'oa-2', weight: 1 }],
      anthropic: [{ id: 'an-1' }],
    },
    { random: seededRandom(5) },
  );
}

function picks(keys: KeyPool, provider: string, now: number, count = 400): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const id = keyOf(keys.pick(provider, now));
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('KeyPool', () => {
  test('picks by weight', () => {
    const counts = picks(pool(), 'openai', T0, 4000);
    expect(Math.abs((counts.get('oa-1') ?? 0) / 4000 - 0.75)).toBeLessThanOrEqual(0.05);
  });

  test('rotates away from a key on 429 for Retry-After, then takes it back', () => {
    const keys = pool();
    keys.report('openai', 'oa-1', { status: 429, retryAfterSeconds: 20, now: T0 });
    expect(picks(keys, 'openai', T0 + 1_000)).toEqual(new Map([['oa-2', 400]]));
    expect(picks(keys, 'openai', T0 + 19_999)).toEqual(new Map([['oa-2', 400]]));
    expect(picks(keys, 'openai', T0 + 20_000).get('oa-1')).toBeGreaterThan(0);
    expect(keys.cooldowns('openai', T0 + 1_000)).toEqual([{ keyId: 'oa-1', until: T0 + 20_000, reason: 'rate_limited' }]);
  });

  test.each<[string, number[], number]>([
    ['first 429 without Retry-After', [429], 1_000],
    ['second consecutive 429 doubles', [429, 429], 2_000],
    ['fourth consecutive 429', [429, 429, 429, 429], 8_000],
    ['backoff is capped', Array.from({ length: 20 }, () => 429), 60_000],
    ['401 cools down for longer', [401], 5 * 60_000],
    ['403 too, doubling', [403, 403], 10 * 60_000],
    ['a success in between resets the backoff', [429, 429, 200, 429], 1_000],
  ])('%s', (_label, statuses, cooldownMs) => {
    // Each failure arrives once the key is back in rotation, as a retried request would see it.
    const keys = pool();
    let now = T0;
    let lastCooldown = { from: 0, until: 0 };
    for (const status of statuses) {
      keys.report('anthropic', 'an-1', { status, now });
      const pick = keys.pick('anthropic', now);
      if (pick.exhausted) lastCooldown = { from: now, until: pick.until };
      now = pick.exhausted ? pick.until : now + 1;
    }
    expect(lastCooldown.until - lastCooldown.from).toBe(cooldownMs);
    expect(keys.pick('anthropic', lastCooldown.until - 1).exhausted).toBe(true);
    expect(keys.pick('anthropic', lastCooldown.until)).toEqual({ exhausted: false, keyId: 'an-1' });
  });

  test('a burst of 429s from requests in flight counts as one strike', () => {
    const keys = pool();
    for (let i = 0; i < 10; i++) keys.report('anthropic', 'an-1', { status: 429, now: T0 + i });
    // The base cooldown (1 s) from the latest report, not 2^9 s.
    expect(keys.pick('anthropic', T0 + 10)).toEqual({ exhausted: true, until: T0 + 9 + 1_000 });
  });

  test('401 outlasts a 429 and a later short 429 does not shorten it', () => {
    const keys = pool();
    keys.report('openai', 'oa-2', { status: 401, now: T0 });
    keys.report('openai', 'oa-2', { status: 429, retryAfterSeconds: 1, now: T0 + 10 });
    expect(keys.cooldowns('openai', T0 + 60_000)).toEqual([{ keyId: 'oa-2', until: T0 + 5 * 60_000, reason: 'auth_failed' }]);
  });

  test('a success clears a cooldown', () => {
    const keys = pool();
    keys.report('anthropic', 'an-1', { status: 429, retryAfterSeconds: 60, now: T0 });
    expect(keys.pick('anthropic', T0 + 1).exhausted).toBe(true);
    keys.report('anthropic', 'an-1', { status: 200, now: T0 + 2 });
    expect(keys.pick('anthropic', T0 + 3)).toEqual({ exhausted: false, keyId: 'an-1' });
  });

  test('5xx and other 4xx leave the key alone', () => {
    const keys = pool();
    for (const status of [500, 503, 400, 404, 413]) keys.report('anthropic', 'an-1', { status, now: T0 });
    expect(keys.pick('anthropic', T0)).toEqual({ exhausted: false, keyId: 'an-1' });
  });

  test('all keys cooling down: exhausted until the earliest comes back', () => {
    const keys = pool();
    keys.report('openai', 'oa-1', { status: 429, retryAfterSeconds: 30, now: T0 });
    keys.report('openai', 'oa-2', { status: 429, retryAfterSeconds: 10, now: T0 });
    expect(keys.pick('openai', T0 + 5_000)).toEqual({ exhausted: true, until: T0 + 10_000 });
    expect(keyOf(keys.pick('openai', T0 + 10_000))).toBe('oa-2');
  });

  test('Retry-After is capped', () => {
    const keys = pool();
    keys.report('anthropic', 'an-1', { status: 429, retryAfterSeconds: 86_400, now: T0 });
    expect(keys.pick('anthropic', T0)).toEqual({ exhausted: true, until: T0 + 10 * 60_000 });
  });

  test('unknown keys are ignored, unknown providers are a configuration error', () => {
    const keys = pool();
    expect(() => keys.report('openai', 'gone', { status: 429, now: T0 })).not.toThrow();
    expect(() => keys.report('nobody', 'x', { status: 429, now: T0 })).not.toThrow();
    expect(keys.has('nobody')).toBe(false);
    expect(() => keys.pick('nobody', T0)).toThrow('no key pool for provider "nobody"');
  });

  test.each([
    ['duplicate ids', { p: [{ id: 'a' }, { id: 'a' }] }],
    ['no positive weight', { p: [{ id: 'a', weight: 0 }] }],
  ])('rejects %s', (_label, pools) => {
    expect(() => new KeyPool(pools, { random: seededRandom(1) })).toThrow();
  });
});
