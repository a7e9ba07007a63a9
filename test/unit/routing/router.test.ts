import { describe, expect, test } from '@jest/globals';
import { createRouter } from '../../../extproc/routing/router.ts';
import type { RouteInput } from '../../../extproc/routing/route-input.ts';
import { collectTags } from '../../../extproc/routing/tags.ts';
import { WEDNESDAY_NOON, exampleConfig } from './fixture.ts';
import { manualClock, neutralHealth, parseConfig, seededRandom, t } from './helpers.ts';

function routerAt(nowMs: number, config = exampleConfig) {
  return createRouter(config, { clock: manualClock(nowMs), random: seededRandom(7), health: neutralHealth });
}

const base: RouteInput = { model: 'fast', tags: {}, promptTokens: 1000 };

describe('rule criteria select the right target', () => {
  test.each<[string, Partial<RouteInput>, number, string, string]>([
    ['alias from models:', {}, WEDNESDAY_NOON, 'models.fast', 'groq/llama-3.3-70b'],
    ['model glob', { model: 'claude-3-haiku' }, WEDNESDAY_NOON, 'claude-family', 'anthropic/claude-sonnet-4-5'],
    ['virtual key glob', { keyId: 'vk_vip_42' }, WEDNESDAY_NOON, 'vip-keys', 'anthropic/claude-opus-4-1'],
    ['team from a list', { team: 'science' }, WEDNESDAY_NOON, 'research-team', 'openai/o3'],
    ['customer', { customer: 'acme' }, WEDNESDAY_NOON, 'acme', 'azure-openai/gpt-4o'],
    ['tag from x-sb-tags header', { tags: collectTags({ header: 'task=summarization,tier=gold' }) }, WEDNESDAY_NOON, 'summaries', 'openai/gpt-4o-mini'],
    ['tag from body metadata', { tags: collectTags({ bodyMetadata: { task: 'summarization' } }) }, WEDNESDAY_NOON, 'summaries', 'openai/gpt-4o-mini'],
    ['header tag beats body metadata', { tags: collectTags({ header: 'task=chat', bodyMetadata: { task: 'summarization' } }) }, WEDNESDAY_NOON, 'models.fast', 'groq/llama-3.3-70b'],
    ['large prompt', { promptTokens: 150000 }, WEDNESDAY_NOON, 'huge-prompts', 'gemini/gemini-2.5-pro'],
    ['small prompt on gpt-4o', { model: 'gpt-4o', promptTokens: 50 }, WEDNESDAY_NOON, 'tiny-gpt4o', 'openai/gpt-4o-mini'],
    ['normal prompt on gpt-4o falls to its alias', { model: 'gpt-4o', promptTokens: 500 }, WEDNESDAY_NOON, 'models.gpt-4o', 'openai/gpt-4o'],
    ['weeknight window', {}, Date.parse('2025-06-04T20:00:00Z'), 'weeknights', 'vllm/llama-3.3-70b'],
    ['weeknight window across midnight into Saturday', {}, Date.parse('2025-06-07T01:00:00Z'), 'weeknights', 'vllm/llama-3.3-70b'],
    ['no window on Saturday night', {}, Date.parse('2025-06-07T20:00:00Z'), 'models.fast', 'groq/llama-3.3-70b'],
  ])('%s', (_label, overrides, now, rule, primary) => {
    const decision = routerAt(now).decide({ ...base, ...overrides });
    expect(decision.ok).toBe(true);
    if (!decision.ok) return;
    expect(decision.rule).toBe(rule);
    expect(`${decision.primary.provider}/${decision.primary.model}`).toBe(primary);
    expect(decision.chain[0]).toEqual(decision.primary);
  });

  test('unknown model with no matching rule is model_not_found', () => {
    expect(routerAt(WEDNESDAY_NOON).decide({ ...base, model: 'gpt-9' })).toEqual({ ok: false, reason: 'model_not_found' });
  });

  test('a glob does not match a partial name', () => {
    // 'claude-*' must not match 'my-claude-x', so this falls through to nothing.
    expect(routerAt(WEDNESDAY_NOON).decide({ ...base, model: 'my-claude-x' }).ok).toBe(false);
  });
});

describe('first match wins', () => {
  test.each<[string, Partial<RouteInput>, string]>([
    ['key rule before team rule', { keyId: 'vk_vip_1', team: 'research' }, 'vip-keys'],
    ['team rule before tag rule', { team: 'research', tags: { task: 'summarization' } }, 'research-team'],
    ['explicit rule before alias', { model: 'smart', customer: 'acme' }, 'acme'],
  ])('%s', (_label, overrides, rule) => {
    const decision = routerAt(WEDNESDAY_NOON).decide({ ...base, ...overrides });
    expect(decision.ok && decision.rule).toBe(rule);
  });

  test('reordering the rules changes the winner', () => {
    const rules = exampleConfig.routing?.rules ?? [];
    const swapped = parseConfig({ routing: { rules: [rules[1], rules[0]] } });
    const decision = routerAt(WEDNESDAY_NOON, swapped).decide({ ...base, keyId: 'vk_vip_1', team: 'research' });
    expect(decision.ok && decision.rule).toBe('research-team');
  });
});

describe('chains', () => {
  test('rule-level fallbacks follow the primary, per-target fallbacks replace them', () => {
    const router = routerAt(WEDNESDAY_NOON);
    const vip = router.decide({ ...base, keyId: 'vk_vip_1' });
    expect(vip.ok && vip.chain).toEqual([t('anthropic', 'claude-opus-4-1'), t('openai', 'gpt-4o')]);
    const seen = new Map<string, unknown>();
    for (let i = 0; i < 200; i++) {
      const decision = router.decide({ ...base, model: 'claude-x' });
      if (decision.ok) seen.set(decision.primary.provider, decision.chain);
    }
    expect(seen.get('anthropic')).toEqual([
      t('anthropic', 'claude-sonnet-4-5'),
      t('bedrock', 'anthropic.claude-sonnet-4-5'),
      t('anthropic', 'claude-sonnet-4-5-1m'),
    ]);
    expect(seen.get('bedrock')).toEqual([
      t('bedrock', 'anthropic.claude-sonnet-4-5'),
      t('anthropic', 'claude-sonnet-4-5'),
      t('anthropic', 'claude-sonnet-4-5-1m'),
    ]);
  });

  test('context-length step is marked and retry policy resolved from defaults', () => {
    const decision = routerAt(WEDNESDAY_NOON).decide({ ...base, model: 'claude-x' });
    if (!decision.ok) throw new Error('expected a decision');
    expect(decision.contextLengthStep).toBe(2);
    expect(decision.retry).toEqual({
      retryOn: ['5xx', '429', 'connect-failure', 'reset', 'per-attempt-timeout'],
      retriableStatusCodes: [],
      perAttemptTimeoutMs: 30000,
      firstByteTimeoutMs: 10000,
    });
    const huge = routerAt(WEDNESDAY_NOON).decide({ ...base, promptTokens: 200000 });
    expect(huge.ok && huge.retry.retryOn).toEqual(['5xx', 'reset']);
  });

  test('a per-key fallback override replaces the rule chain after the primary', () => {
    const override = [t('mistral', 'mistral-large'), t('openai', 'gpt-4o')];
    const decision = routerAt(WEDNESDAY_NOON).decide({ ...base, keyId: 'vk_vip_1', fallbackOverride: override });
    if (!decision.ok) throw new Error('expected a decision');
    expect(decision.overridden).toBe(true);
    expect(decision.chain).toEqual([t('anthropic', 'claude-opus-4-1'), ...override]);
    const plain = routerAt(WEDNESDAY_NOON).decide({ ...base, keyId: 'vk_vip_1' });
    expect(plain.ok && plain.chainId).not.toBe(decision.chainId);
  });

  test('an override whose chain Envoy does not have falls back to the rule chain', () => {
    const router = createRouter(exampleConfig, {
      clock: manualClock(WEDNESDAY_NOON),
      random: seededRandom(1),
      health: neutralHealth,
      isProvisioned: () => false,
    });
    const decision = router.decide({ ...base, keyId: 'vk_vip_1', fallbackOverride: [t('mistral', 'mistral-large')] });
    expect(decision.ok && decision.overridden).toBe(false);
    expect(decision.ok && decision.chain).toEqual([t('anthropic', 'claude-opus-4-1'), t('openai', 'gpt-4o')]);
    expect(router.explain({ ...base, keyId: 'vk_vip_1', fallbackOverride: [t('mistral', 'mistral-large')] }).overrideIgnored).toMatch(
      /not provisioned/,
    );
  });
});
