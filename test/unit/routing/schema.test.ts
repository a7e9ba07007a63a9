import { describe, expect, test } from '@jest/globals';
import { routerConfigSchema, routingSchema } from '../../../extproc/routing/schema.ts';

const validRule = { name: 'r', targets: [{ provider: 'openai', model: 'gpt-4o' }] };

describe('routing schema', () => {
  test('accepts the documented example and fills defaults', () => {
    const parsed = routerConfigSchema.parse({
      routing: {
        defaults: { perAttemptTimeoutMs: 30000 },
        rules: [
          {
            name: 'nightly-batch',
            match: {
              model: 'gpt-4o*',
              tags: { task: ['summarization', 'extraction'] },
              time: { days: ['mon', 'fri'], from: '20:00', to: '06:00', timeZone: 'Europe/Berlin' },
              promptTokens: { gt: 1000 },
            },
            targets: [{ provider: 'openai', model: 'gpt-4o-mini', weight: 70 }, { provider: 'groq', model: 'llama' }],
            fallbacks: [{ provider: 'anthropic', model: 'claude-haiku' }],
            retryOn: ['5xx', 429, 529],
          },
        ],
      },
      models: { fast: { targets: [{ provider: 'groq', model: 'llama' }] } },
      providers: { ignored: 'by this schema' },
    });
    const rule = parsed.routing?.rules[0];
    expect(rule?.match.model).toEqual(['gpt-4o*']);
    expect(rule?.match.time).toHaveLength(1);
    expect(rule?.targets[1]?.weight).toBe(1);
    expect(parsed.models?.fast?.targets[0]?.weight).toBe(1);
    expect(routingSchema.parse({}).rules).toEqual([]);
  });

  test.each([
    ['unknown time zone', { ...validRule, match: { time: { from: '01:00', to: '02:00', timeZone: 'Mars/Olympus' } } }],
    ['malformed time', { ...validRule, match: { time: { from: '25:00', to: '02:00', timeZone: 'UTC' } } }],
    ['minutes out of range', { ...validRule, match: { time: { from: '10:60', to: '11:00', timeZone: 'UTC' } } }],
    ['unknown weekday', { ...validRule, match: { time: { days: ['monday'], from: '01:00', to: '02:00', timeZone: 'UTC' } } }],
    ['empty promptTokens', { ...validRule, match: { promptTokens: {} } }],
    ['inverted promptTokens', { ...validRule, match: { promptTokens: { gt: 100, lt: 50 } } }],
    ['no targets', { name: 'r', targets: [] }],
    ['all weights zero', { name: 'r', targets: [{ provider: 'a', model: 'm', weight: 0 }] }],
    ['negative weight', { name: 'r', targets: [{ provider: 'a', model: 'm', weight: -1 }] }],
    ['reserved name', { ...validRule, name: 'models.fast' }],
    ['typo in match', { ...validRule, match: { modle: 'x' } }],
    ['typo in target', { name: 'r', targets: [{ provider: 'a', model: 'm', wieght: 2 }] }],
    ['bad retry condition', { ...validRule, retryOn: ['sometimes'] }],
    ['retry status outside 4xx/5xx', { ...validRule, retryOn: [302] }],
  ])('rejects %s', (_label, rule) => {
    expect(routingSchema.safeParse({ rules: [rule] }).success).toBe(false);
  });

  test('rejects duplicate rule names', () => {
    const result = routingSchema.safeParse({ rules: [validRule, validRule] });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('duplicate rule name');
  });

  test('accepts 24:00 as the end of a window', () => {
    const rule = { ...validRule, match: { time: { from: '18:00', to: '24:00', timeZone: 'UTC' } } };
    expect(routingSchema.safeParse({ rules: [rule] }).success).toBe(true);
  });
});
