import { describe, expect, test } from '@jest/globals';
import { HealthTracker } from '../../../extproc/routing/health.ts';
import { createRouter } from '../../../extproc/routing/router.ts';
import { WEDNESDAY_NOON, exampleConfig } from './fixture.ts';
import { manualClock, neutralHealth, seededRandom, t } from './helpers.ts';

describe('explain (dry run)', () => {
  test('reports every rule with reasons, the winner, shadowed matches and the chain', () => {
    const router = createRouter(exampleConfig, { clock: manualClock(WEDNESDAY_NOON), random: seededRandom(2), health: neutralHealth });
    const explanation = router.explain({ model: 'fast', team: 'research', tags: { task: 'summarization' }, promptTokens: 10 });

    expect(JSON.parse(JSON.stringify(explanation))).toEqual(explanation);
    expect(explanation.at).toBe('2025-06-04T10:00:00.000Z');
    expect(explanation.rules.map((rule) => [rule.name, rule.outcome])).toEqual([
      ['vip-keys', 'no-match'],
      ['research-team', 'selected'],
      ['acme', 'no-match'],
      ['summaries', 'shadowed'],
      ['huge-prompts', 'no-match'],
      ['tiny-gpt4o', 'no-match'],
      ['weeknights', 'no-match'],
      ['claude-family', 'no-match'],
      ['models.smart', 'no-match'],
      ['models.fast', 'shadowed'],
      ['models.gpt-4o', 'no-match'],
    ]);
    const byName = new Map(explanation.rules.map((rule) => [rule.name, rule]));
    expect(byName.get('vip-keys')?.checks).toEqual([
      { criterion: 'keyId', ok: false, detail: 'request has no keyId; rule wants [vk_vip_*]' },
    ]);
    expect(byName.get('research-team')?.checks).toEqual([{ criterion: 'team', ok: true, detail: '"research" matches [research, science]' }]);
    expect(byName.get('huge-prompts')?.checks[0]).toEqual({ criterion: 'promptTokens', ok: false, detail: '10 prompt tokens is not > 100000' });
    // tiny-gpt4o fails on the model but still reports its prompt-size check.
    expect(byName.get('tiny-gpt4o')?.checks.map((check) => [check.criterion, check.ok])).toEqual([
      ['model', false],
      ['promptTokens', true],
    ]);
    expect(byName.get('weeknights')?.checks[0]?.detail).toContain('local wed 12:00 Europe/Berlin outside');
    expect(byName.get('models.smart')?.checks[0]).toEqual({ criterion: 'alias', ok: false, detail: '"fast" is not the alias "smart"' });

    expect(explanation.candidates).toEqual([
      {
        target: t('openai', 'o3'),
        configuredWeight: 1,
        healthFactor: 1,
        effectiveWeight: 1,
        share: 1,
        chainId: explanation.decision.ok ? explanation.decision.chainId : 'missing',
        chain: [t('openai', 'o3')],
      },
    ]);
    expect(explanation.decision).toMatchObject({ ok: true, rule: 'research-team', primary: t('openai', 'o3') });
  });

  test('shows configured weights, health factors and resulting shares', () => {
    const health = new HealthTracker();
    for (let i = 0; i < 20; i++) {
      health.observe(t('openai', 'gpt-4o'), { latencyMs: 300, status: 200, now: WEDNESDAY_NOON });
      health.observe(t('azure-openai', 'gpt-4o'), { latencyMs: 300, status: 503, now: WEDNESDAY_NOON });
    }
    const router = createRouter(exampleConfig, { clock: manualClock(WEDNESDAY_NOON), random: seededRandom(2), health });
    const { candidates } = router.explain({ model: 'smart', tags: {}, promptTokens: 10 });
    expect(candidates.map((c) => [c.target.provider, c.configuredWeight])).toEqual([
      ['openai', 70],
      ['azure-openai', 30],
    ]);
    expect(candidates[0]?.healthFactor).toBe(1);
    expect(candidates[1]?.healthFactor).toBeCloseTo(0.05, 5);
    expect(candidates[1]?.effectiveWeight).toBeCloseTo(1.5, 5);
    expect(candidates[0]?.share).toBeCloseTo(70 / 71.5, 5);
    expect(candidates.map((c) => c.chain[1])).toEqual([t('anthropic', 'claude-sonnet-4-5'), t('anthropic', 'claude-sonnet-4-5')]);
  });

  test('a miss explains why nothing matched', () => {
    const router = createRouter(exampleConfig, { clock: manualClock(WEDNESDAY_NOON), random: seededRandom(2), health: neutralHealth });
    const explanation = router.explain({ model: 'gpt-9', tags: {}, promptTokens: 10 });
    expect(explanation.decision).toEqual({ ok: false, reason: 'model_not_found' });
    expect(explanation.candidates).toEqual([]);
    expect(explanation.rules.every((rule) => rule.outcome === 'no-match')).toBe(true);
  });
});
