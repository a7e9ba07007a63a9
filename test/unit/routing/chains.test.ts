import { describe, expect, test } from '@jest/globals';
import { buildChain, chainId, chainSubsequence, chainSuffix, chainVariants } from '../../../extproc/routing/chains.ts';
import { listChains } from '../../../extproc/routing/list-chains.ts';
import type { KeyChainOverride } from '../../../extproc/routing/list-chains.ts';
import { resolveRetryPolicy } from '../../../extproc/routing/retry-policy.ts';
import { createRouter } from '../../../extproc/routing/router.ts';
import type { RouteInput } from '../../../extproc/routing/route-input.ts';
import { exampleConfig } from './fixture.ts';
import { manualClock, neutralHealth, parseConfig, seededRandom, t } from './helpers.ts';

const keys: KeyChainOverride[] = [
  { keyId: 'vk_a', fallbacks: [t('mistral', 'mistral-large')] },
  { keyId: 'vk_b', fallbacks: [t('mistral', 'mistral-large')] }, // same list: counted once
  { keyId: 'vk_c', fallbacks: [] }, // "no fallbacks at all" is an override too
  { keyId: 'vk_d' }, // no override
];

/** Inputs spanning every criterion of the example config, crossed with every key. */
function sweepInputs(): RouteInput[] {
  const inputs: RouteInput[] = [];
  const models = ['fast', 'smart', 'gpt-4o', 'claude-x', 'unknown'];
  const identities: Partial<RouteInput>[] = [{}, { keyId: 'vk_vip_9' }, { team: 'research' }, { customer: 'acme' }];
  const tags: Record<string, string>[] = [{}, { task: 'summarization' }];
  for (const model of models)
    for (const identity of identities)
      for (const tagSet of tags)
        for (const promptTokens of [50, 5000, 500000])
          for (const key of [undefined, ...keys]) {
            const input: RouteInput = { model, tags: tagSet, promptTokens, ...identity };
            if (key?.fallbacks) input.fallbackOverride = key.fallbacks;
            inputs.push(input);
          }
  return inputs;
}

describe('listChains', () => {
  test('covers every chain a decision can return, at any time of the week', () => {
    const listed = new Set(listChains(exampleConfig, keys).map((chain) => chain.id));
    const clock = manualClock(Date.parse('2025-06-02T00:00:00Z'));
    const router = createRouter(exampleConfig, { clock, random: seededRandom(9), health: neutralHealth });
    const returned = new Set<string>();
    for (let hour = 0; hour < 7 * 24; hour += 5) {
      clock.set(Date.parse('2025-06-02T00:00:00Z') + hour * 3_600_000);
      for (const input of sweepInputs()) {
        for (let draw = 0; draw < 3; draw++) {
          const decision = router.decide(input);
          if (!decision.ok) continue;
          returned.add(decision.chainId);
          expect(listed.has(decision.chainId)).toBe(true);
        }
      }
    }
    // Sanity: the sweep really reached override chains and weighted siblings.
    expect(returned.size).toBeGreaterThan(20);
  });

  test('lists each distinct chain once, with override lists de-duplicated', () => {
    // 13 configured targets; summaries and tiny-gpt4o both route to openai/gpt-4o-mini alone:
    // 12 decided chains. Their order-keeping subsequences (steps whose keys all cool down are
    // left out) add the 9 that are not already chains of their own.
    expect(listChains(exampleConfig, [], { variants: false })).toHaveLength(12);
    expect(listChains(exampleConfig)).toHaveLength(12 + 9);
    // Overrides keep only (head, retry policy, context-length step): 10 distinct heads, since
    // azure gpt-4o (acme, smart) and openai gpt-4o (smart, alias) head two rules each.
    // [mistral] adds 10 chains; [] adds a head-only chain for the 4 heads that always had
    // fallbacks (vip, weeknights, claude-family x2); the other 6 head-only chains exist already.
    expect(listChains(exampleConfig, keys, { variants: false })).toHaveLength(12 + 10 + 4);
  });

  test('every suffix of every chain is listed, so skipping cooled-down steps finds a cluster', () => {
    const ids = new Set(listChains(exampleConfig, keys).map((c) => c.id));
    for (const chain of listChains(exampleConfig, keys)) for (let skip = 1; skip < chain.targets.length; skip++) expect(ids.has(chainSuffix(chain, skip)!.id)).toBe(true);
  });

  test('every order-keeping subsequence of a short chain is listed, so any cooled-down step can be left out', () => {
    const ids = new Set(listChains(exampleConfig, keys).map((c) => c.id));
    const three = listChains(exampleConfig, keys).find((c) => c.targets.length === 3)!;
    for (const keep of [[0], [1], [2], [0, 1], [0, 2], [1, 2]]) expect(ids.has(chainSubsequence(three, keep)!.id)).toBe(true);
    // The context-length step keeps its role, renumbered, or is gone with its step.
    expect(chainSubsequence(three, [0, 2])!.contextLengthStep).toBe(three.contextLengthStep === 2 ? 1 : undefined);
    expect(chainSubsequence(three, [0, 1])!.contextLengthStep).toBeUndefined();
    expect(chainVariants({ ...three, targets: [...three.targets, ...three.targets, ...three.targets].slice(0, 5) })).toHaveLength(4);
  });

  test('every chain starts with its primary and carries its retry policy', () => {
    for (const chain of listChains(exampleConfig, keys)) {
      expect(chain.id).toMatch(/^c-[0-9a-f]{16}$/);
      expect(chain.targets.length).toBeGreaterThan(0);
      expect(chain.id).toBe(chainId(chain.targets, chain.retry, chain.contextLengthStep));
    }
  });
});

describe('chain ids are stable', () => {
  const retry = resolveRetryPolicy({}, undefined);

  test('same targets and policy give the same id whatever the rule names or order', () => {
    const a = parseConfig({
      routing: {
        rules: [
          { name: 'one', match: { team: 'x' }, targets: [t('openai', 'gpt-4o')], fallbacks: [t('anthropic', 'claude')] },
          { name: 'two', match: { team: 'y' }, targets: [t('groq', 'llama')] },
        ],
      },
    });
    const b = parseConfig({
      models: { alias: { targets: [t('groq', 'llama')] } },
      routing: { rules: [{ name: 'renamed', targets: [t('openai', 'gpt-4o')], fallbacks: [t('anthropic', 'claude')] }] },
    });
    expect(listChains(a).map((c) => c.id)).toEqual(listChains(b).map((c) => c.id));
  });

  test('pinned value: changing the hash input breaks every deployed Envoy route', () => {
    expect(buildChain(t('openai', 'gpt-4o'), [t('anthropic', 'claude-sonnet-4-5')], retry).id).toBe('c-12155e9ddecc4ecf');
  });

  test.each([
    ['fallback order', buildChain(t('a', '1'), [t('c', '3'), t('b', '2')], retry).id],
    ['retry conditions', buildChain(t('a', '1'), [t('b', '2'), t('c', '3')], resolveRetryPolicy({ retryOn: ['5xx'] }, undefined)).id],
    ['per-attempt timeout', buildChain(t('a', '1'), [t('b', '2'), t('c', '3')], resolveRetryPolicy({ perAttemptTimeoutMs: 5 }, undefined)).id],
    ['context-length step', buildChain(t('a', '1'), [t('b', '2'), t('c', '3')], retry, t('c', '3')).id],
  ])('%s changes the id', (_label, id) => {
    expect(id).not.toBe(buildChain(t('a', '1'), [t('b', '2'), t('c', '3')], retry).id);
  });

  test('repeated targets are dropped from a chain', () => {
    const chain = buildChain(t('a', '1'), [t('a', '1'), t('b', '2'), t('b', '2')], retry);
    expect(chain.targets).toEqual([t('a', '1'), t('b', '2')]);
  });

  test('retryOn accepts 429 as a number and extra status codes', () => {
    expect(resolveRetryPolicy({ retryOn: [529, 429, 'reset', 503] }, undefined)).toEqual({
      retryOn: ['429', 'reset'],
      retriableStatusCodes: [503, 529],
    });
  });
});
