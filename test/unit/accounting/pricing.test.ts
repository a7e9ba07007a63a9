import { describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Pricing, PriceUnknownError, dollarsToMicros } from '../../../extproc/accounting/pricing.ts';
import { catalogProviderId } from '../../../extproc/accounting/provider-ids.ts';
import { createGovernanceMetrics } from '../../../extproc/governance/metrics.ts';
import { PricingSchema } from '../../../extproc/governance/schema.ts';
import type { ProviderType } from '../../../provider-adapters/contract.ts';

function pricing(config: unknown) {
  const registry = new Registry();
  const metrics = createGovernanceMetrics(registry);
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  return { pricing: new Pricing({ config: PricingSchema.parse(config), logger, metrics }), registry, lines };
}

describe('pricing', () => {
  it('prices catalog models in integer micro-dollars, cached input at the cache rate', () => {
    const { pricing: p } = pricing({});
    // gpt-4o: $2.50 / M input, $1.25 / M cached, $10 / M output.
    const cost = p.cost({ type: 'openai' }, 'gpt-4o', { inputTokens: 1_000_000, cachedInputTokens: 100_000, outputTokens: 1_000_000 });
    expect(cost).toEqual({ micros: 2_250_000 + 125_000 + 10_000_000, source: 'catalog' });
    expect(Number.isInteger(p.cost({ type: 'anthropic' }, 'claude-sonnet-4-20250514', { inputTokens: 7, outputTokens: 3 }).micros)).toBe(true);
  });

  it('applies cache-write pricing and accepts Anthropic-style uncached input counts', () => {
    const { pricing: p } = pricing({});
    // claude-sonnet-4: $3 / M input, $3.75 / M cache write, $0.30 / M cache read, $15 / M output.
    const openAiStyle = p.cost({ type: 'anthropic' }, 'claude-sonnet-4-20250514', { inputTokens: 4740, cacheCreationInputTokens: 4735, outputTokens: 255 });
    expect(openAiStyle.micros).toBe(dollarsToMicros((5 * 3 + 4735 * 3.75 + 255 * 15) / 1e6));
    const anthropicStyle = p.cost({ type: 'anthropic' }, 'claude-sonnet-4-20250514', { inputTokens: 5, cacheCreationInputTokens: 4735, outputTokens: 255 });
    expect(anthropicStyle.micros).toBe(openAiStyle.micros);
  });

  it('lets config override the catalog, per provider name and model glob', () => {
    const { pricing: p } = pricing({
      overrides: [
        { provider: 'vllm', model: 'llama-*', inputPerMTok: 0.1, outputPerMTok: 0.2 },
        { provider: 'openai', model: 'gpt-4o', inputPerMTok: 1, outputPerMTok: 2, reasoningPerMTok: 5 },
      ],
    });
    expect(p.cost({ type: 'vllm', name: 'onprem' }, 'llama-3.1-70b', { inputTokens: 1000, outputTokens: 1000 })).toEqual({ micros: 300, source: 'override' });
    expect(p.cost({ type: 'openai' }, 'gpt-4o', { inputTokens: 10, outputTokens: 10, reasoningTokens: 4 })).toEqual({ micros: 10 + 12 + 20, source: 'override' });
    // A fraction of a micro-dollar rounds up: no call is free by rounding.
    expect(p.cost({ type: 'vllm' }, 'llama-3', { inputTokens: 1, outputTokens: 0 }).micros).toBe(1);
  });

  it('prices a model the same on every later call as on the first (the catalog lookup is cached)', () => {
    const cases: [ProviderType, string][] = [
      ['openai', 'gpt-4o'],
      ['openai', 'gpt-4o-mini'],
      ['anthropic', 'claude-sonnet-4-20250514'],
      ['gemini', 'gemini-2.5-pro'],
      ['groq', 'llama-3.3-70b-versatile'],
      ['mistral', 'mistral-large-latest'],
    ];
    const usages = [
      { inputTokens: 1_000, outputTokens: 10 },
      { inputTokens: 300_000, cachedInputTokens: 50_000, outputTokens: 2_000 }, // above tier thresholds
      { inputTokens: 5, cacheCreationInputTokens: 4_735, outputTokens: 255 },
    ];
    for (const [type, model] of cases) {
      for (const usage of usages) {
        const fresh = pricing({}).pricing.cost({ type }, model, usage);
        const warm = pricing({}).pricing;
        warm.cost({ type }, model, { inputTokens: 1, outputTokens: 1 });
        expect([type, model, warm.cost({ type }, model, usage)]).toEqual([type, model, fresh]);
        expect(fresh.source).toBe('catalog');
      }
    }
  });

  it('estimates a reservation as prompt plus max output at list price', () => {
    const { pricing: p } = pricing({});
    expect(p.estimate({ type: 'openai' }, 'gpt-4o', 1000, 500)).toEqual({ micros: 2500 + 5000, source: 'catalog' });
  });

  it('rejects an unknown price by default', () => {
    const { pricing: p } = pricing({});
    expect(() => p.cost({ type: 'ollama' }, 'llama3', { inputTokens: 1, outputTokens: 1 })).toThrow(PriceUnknownError);
    expect(() => p.estimate({ type: 'openai' }, 'no-such-model-xyz', 1, 1)).toThrow(PriceUnknownError);
  });

  it('allows an unknown price at zero only with a metric and a warning', async () => {
    const { pricing: p, registry, lines } = pricing({ unknownPricePolicy: 'allow-at-zero' });
    expect(p.cost({ type: 'ollama', name: 'local' }, 'llama3', { inputTokens: 100, outputTokens: 100 })).toEqual({ micros: 0, source: 'unknown' });
    const metric = await registry.getSingleMetric('switchboard_price_unknown_total')!.get();
    expect(metric.values).toEqual([{ value: 1, labels: { provider: 'local', model: 'llama3' } }]);
    expect(lines.join('')).toContain('priced at zero');
  });

  it('maps every provider type', () => {
    const types: ProviderType[] = ['openai', 'azure-openai', 'anthropic', 'gemini', 'bedrock', 'groq', 'mistral', 'vllm', 'ollama', 'openai-compatible'];
    expect(types.map(catalogProviderId)).toEqual(['openai', 'azure', 'anthropic', 'google', 'aws', 'groq', 'mistral', undefined, undefined, undefined]);
    const { pricing: p } = pricing({});
    expect(p.cost({ type: 'gemini' }, 'gemini-2.5-flash', { inputTokens: 1000, outputTokens: 1000 }).source).toBe('catalog');
    expect(p.cost({ type: 'bedrock' }, 'anthropic.claude-3-5-sonnet-20240620-v1:0', { inputTokens: 1000, outputTokens: 1000 }).micros).toBe(18_000);
  });
});
