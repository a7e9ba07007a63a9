import { beforeAll, describe, expect, test } from '@jest/globals';
import { collectTags, parseTagsHeader, tagsFromBodyMetadata } from '../../../extproc/routing/tags.ts';
import {
  estimateTokensByChars,
  loadTokenEstimator,
  promptTextOf,
  routingNeedsPromptTokens,
} from '../../../extproc/routing/token-estimate.ts';
import type { TokenEstimator } from '../../../extproc/routing/token-estimate.ts';
import { exampleConfig } from './fixture.ts';
import { parseConfig } from './helpers.ts';

describe('tags', () => {
  test.each<[string | undefined, Record<string, string>]>([
    ['task=summarization,tier=gold', { task: 'summarization', tier: 'gold' }],
    [' task = summarization , tier=gold ', { task: 'summarization', tier: 'gold' }],
    ['a=1,=2,novalue,b=x=y', { a: '1', b: 'x=y' }],
    ['', {}],
    [undefined, {}],
  ])('parseTagsHeader(%j)', (header, tags) => {
    expect(parseTagsHeader(header)).toEqual(tags);
  });

  test('body metadata keeps scalars only', () => {
    expect(tagsFromBodyMetadata({ task: 'x', n: 3, ok: true, nested: { a: 1 }, list: [1] })).toEqual({ task: 'x', n: '3', ok: 'true' });
    expect(tagsFromBodyMetadata(['a'])).toEqual({});
    expect(tagsFromBodyMetadata(null)).toEqual({});
  });

  test('header wins over body metadata', () => {
    expect(collectTags({ header: 'tier=gold', bodyMetadata: { tier: 'free', task: 'chat' } })).toEqual({ tier: 'gold', task: 'chat' });
  });

  test('header tag count is bounded', () => {
    const header = Array.from({ length: 100 }, (_, i) => `k${i}=v`).join(',');
    expect(Object.keys(parseTagsHeader(header))).toHaveLength(64);
  });
});

describe('prompt token estimate', () => {
  let estimator: TokenEstimator;
  beforeAll(async () => {
    estimator = await loadTokenEstimator({ exactLimitChars: 1000 });
  });

  test('counts with o200k_base below the limit', () => {
    expect(estimator.estimate('Hello, world!')).toEqual({ tokens: 4, method: 'o200k_base' });
    expect(estimator.estimate('')).toEqual({ tokens: 0, method: 'o200k_base' });
  });

  test('treats special-token text as ordinary text', () => {
    const result = estimator.estimate('ignore <|endoftext|> this');
    expect(result.method).toBe('o200k_base');
    expect(result.tokens).toBeGreaterThan(3);
  });

  test('switches to chars/4 above the limit', () => {
    const text = 'x'.repeat(1001);
    expect(estimator.estimate(text)).toEqual({ tokens: estimateTokensByChars(text), method: 'chars/4' });
    expect(estimateTokensByChars(text)).toBe(251);
  });

  test('chars/4 is close to o200k_base on English prose', async () => {
    const exact = await loadTokenEstimator({ exactLimitChars: Infinity });
    const prose = 'The gateway routes each request to the first rule that matches, then picks a target by weight. '.repeat(40);
    const ratio = estimateTokensByChars(prose) / exact.estimate(prose).tokens;
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.25);
  });

  test.each<[string, unknown, string]>([
    [
      'OpenAI chat',
      { model: 'gpt-4o', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'Hi' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }], metadata: { task: 'x' } },
      'Be brief.\nHi',
    ],
    [
      'Anthropic messages',
      { model: 'claude', system: 'Sys', messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }, { type: 'text', text: 'Q' }] }] },
      'Sys\nQ',
    ],
    ['Gemini', { contents: [{ role: 'user', parts: [{ text: 'A' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }] }] }, 'A'],
    ['Responses', { model: 'gpt-4o', instructions: 'I', input: 'In' }, 'I\nIn'],
    ['tools count', { messages: [], tools: [{ type: 'function', function: { name: 'get', description: 'Gets' } }] }, 'get\nGets'],
  ])('promptTextOf %s', (_label, body, text) => {
    expect(promptTextOf(body)).toBe(text);
  });

  test('routingNeedsPromptTokens tells the pipeline whether to estimate at all', () => {
    expect(routingNeedsPromptTokens(exampleConfig)).toBe(true);
    expect(routingNeedsPromptTokens(parseConfig({ routing: { rules: [{ name: 'a', targets: [{ provider: 'p', model: 'm' }] }] } }))).toBe(false);
  });
});
