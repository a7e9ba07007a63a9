import { describe, expect, test } from '@jest/globals';
import { createRouter } from '../../../extproc/routing/router.ts';
import { pickWeighted } from '../../../extproc/routing/weighted-pick.ts';
import { WEDNESDAY_NOON, exampleConfig } from './fixture.ts';
import { manualClock, neutralHealth, seededRandom, t } from './helpers.ts';

describe('pickWeighted', () => {
  test.each<[number[], number, number]>([
    [[70, 30], 0, 0],
    [[70, 30], 0.6999, 0],
    [[70, 30], 0.7, 1],
    [[70, 30], 0.9999999, 1],
    [[0, 5, 0], 0.99, 1],
    [[3, 0, 1], 0.76, 2],
    [[1, Number.NaN, 1], 0.6, 2],
    [[0, 0], 0.5, -1],
    [[], 0.5, -1],
  ])('weights %j draw %d -> %d', (weights, draw, index) => {
    expect(pickWeighted(weights, draw)).toBe(index);
  });
});

describe('weighted distribution through the router', () => {
  test.each([1, 42, 20250604])('70/30 lands within 5 points over 2,000 picks (seed %d)', (seed) => {
    const router = createRouter(exampleConfig, { clock: manualClock(WEDNESDAY_NOON), random: seededRandom(seed), health: neutralHealth });
    let openai = 0;
    for (let i = 0; i < 2000; i++) {
      const decision = router.decide({ model: 'smart', tags: {}, promptTokens: 100 });
      if (!decision.ok) throw new Error('smart must route');
      if (decision.primary.provider === 'openai') openai++;
    }
    expect(Math.abs(openai / 2000 - 0.7)).toBeLessThanOrEqual(0.05);
  });

  test('each pick carries its own chain and chain id', () => {
    const router = createRouter(exampleConfig, { clock: manualClock(WEDNESDAY_NOON), random: seededRandom(3), health: neutralHealth });
    const chains = new Map<string, { chainId: string; chain: unknown }>();
    for (let i = 0; i < 100; i++) {
      const decision = router.decide({ model: 'smart', tags: {}, promptTokens: 100 });
      if (decision.ok) chains.set(decision.primary.provider, { chainId: decision.chainId, chain: decision.chain });
    }
    expect(chains.get('openai')?.chain).toEqual([t('openai', 'gpt-4o'), t('anthropic', 'claude-sonnet-4-5')]);
    expect(chains.get('azure-openai')?.chain).toEqual([t('azure-openai', 'gpt-4o'), t('anthropic', 'claude-sonnet-4-5')]);
    expect(chains.get('openai')?.chainId).not.toBe(chains.get('azure-openai')?.chainId);
  });
});
