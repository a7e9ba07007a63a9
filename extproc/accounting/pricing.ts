// What a call costs, in integer micro-dollars. Prices come from config overrides first (on-prem
// and negotiated prices), then from the @pydantic/genai-prices catalog. A model neither knows is
// never silently free: policy `reject` throws PriceUnknownError, `allow-at-zero` prices it at zero
// and counts switchboard_price_unknown_total plus a warning log.
//
// Usage convention (provider-adapters/contract.ts): `inputTokens` is the whole prompt, including
// cached and cache-write tokens, as OpenAI and the catalog count it. If the cache parts exceed it,
// the adapter reported the Anthropic way (uncached only), and the parts are added to it.
import { calcPrice, type Provider as CatalogProvider } from '@pydantic/genai-prices';
import type { Logger } from 'pino';
import type { ProviderType, Usage } from '../../provider-adapters/contract.ts';
import { matchesAny } from '../governance/glob.ts';
import type { GovernanceMetrics } from '../governance/metrics.ts';
import type { PriceOverride, PricingConfig } from '../governance/schema.ts';
import { catalogProviderId } from './provider-ids.ts';

export class PriceUnknownError extends Error {
  override readonly name = 'PriceUnknownError';
  readonly provider: string;
  readonly model: string;
  constructor(provider: string, model: string) {
    super(`no price known for model "${model}" on provider "${provider}"; add a pricing override`);
    this.provider = provider;
    this.model = model;
  }
}

export interface Cost {
  micros: number;
  source: 'override' | 'catalog' | 'unknown';
}

/** Which provider a call went to: its type, and the configured provider name when there is one. */
export interface PricedProvider {
  type: ProviderType;
  name?: string;
}

export interface PricingOptions {
  config: PricingConfig;
  logger: Logger;
  metrics: Pick<GovernanceMetrics, 'priceUnknown'>;
  /** Catalog prices can depend on the date (price changes); injected for reproducible tests. */
  now?: () => number;
}

interface TokenSplit {
  uncachedInput: number;
  cachedInput: number;
  cacheWrite: number;
  /** Output tokens other than reasoning. */
  plainOutput: number;
  reasoning: number;
}

function splitUsage(usage: Usage): TokenSplit {
  const cachedInput = usage.cachedInputTokens ?? 0;
  const cacheWrite = usage.cacheCreationInputTokens ?? 0;
  const totalInput = cachedInput + cacheWrite > usage.inputTokens ? usage.inputTokens + cachedInput + cacheWrite : usage.inputTokens;
  const reasoning = Math.min(usage.reasoningTokens ?? 0, usage.outputTokens);
  return { uncachedInput: totalInput - cachedInput - cacheWrite, cachedInput, cacheWrite, plainOutput: usage.outputTokens - reasoning, reasoning };
}

/**
 * Dollars (possibly fractional micro-dollars) -> whole micro-dollars, rounded up so a tiny call is
 * never free; the inner rounding removes float noise such as 18000.000000000004.
 */
export function dollarsToMicros(dollars: number): number {
  return Math.ceil(Math.round(dollars * 1_000_000 * 1000) / 1000);
}

export class Pricing {
  private readonly options: PricingOptions;
  private readonly warnedUnknown = new Set<string>();

  constructor(options: PricingOptions) {
    this.options = options;
  }

  /** Real cost of a finished call. Throws PriceUnknownError under policy `reject`. */
  cost(provider: PricedProvider, model: string, usage: Usage): Cost {
    const split = splitUsage(usage);
    const override = this.findOverride(provider, model);
    if (override) return { micros: overrideMicros(override, split), source: 'override' };
    const catalogId = catalogProviderId(provider.type);
    if (catalogId) {
      const price = this.catalogPrice(catalogId, model, split);
      if (price !== undefined) return { micros: price, source: 'catalog' };
    }
    return this.unknown(provider, model);
  }

  /**
   * Upper-bound cost for a reservation: the whole prompt at the uncached input rate plus
   * `maxOutputTokens` of output. Throws PriceUnknownError under policy `reject`, so an unpriced
   * model is refused before it costs anything.
   */
  estimate(provider: PricedProvider, model: string, promptTokens: number, maxOutputTokens: number): Cost {
    return this.cost(provider, model, { inputTokens: promptTokens, outputTokens: maxOutputTokens });
  }

  private findOverride(provider: PricedProvider, model: string): PriceOverride | undefined {
    // Later entries win, so a specific override can follow a broad glob.
    const names = provider.name ? [provider.type, provider.name] : [provider.type];
    return this.options.config.overrides.findLast(
      (entry) => names.some((name) => matchesAny(name, [entry.provider])) && matchesAny(model, [entry.model]),
    );
  }

  /**
   * The catalog provider narrowed to the one model that matched, per provider id and model. The
   * catalog finds a model by scanning every provider's match rules on each call (the largest
   * part of a request's pricing CPU); handing it a one-model provider skips that scan and
   * prices the same way. null: the catalog does not know the model.
   */
  private readonly narrowed = new Map<string, CatalogProvider | null>();

  private catalogPrice(providerId: string, model: string, split: TokenSplit): number | undefined {
    const now = this.options.now?.();
    const usage = {
      input_tokens: split.uncachedInput + split.cachedInput + split.cacheWrite,
      cache_read_tokens: split.cachedInput,
      cache_write_tokens: split.cacheWrite,
      output_tokens: split.plainOutput + split.reasoning,
    };
    const key = `${providerId}\u0000${model}`;
    const narrowed = this.narrowed.get(key);
    if (narrowed === null) return undefined;
    try {
      const when = now === undefined ? {} : { timestamp: new Date(now) };
      const result = calcPrice(usage, model, narrowed ? { provider: narrowed, ...when } : { providerId, ...when });
      if (narrowed === undefined) this.narrowed.set(key, result ? { ...result.provider, models: [result.model] } : null);
      return result ? dollarsToMicros(result.total_price) : undefined;
    } catch (error) {
      // The catalog throws on prices it cannot apply to this usage; treat as unknown, loudly.
      this.options.logger.warn({ err: error, provider: providerId, model }, 'catalog could not price this usage');
      return undefined;
    }
  }

  private unknown(provider: PricedProvider, model: string): Cost {
    const label = provider.name ?? provider.type;
    if (this.options.config.unknownPricePolicy === 'reject') throw new PriceUnknownError(label, model);
    this.options.metrics.priceUnknown.inc({ provider: label, model });
    // Once per model and process: the metric counts every call, the log says it once.
    const key = `${label}/${model}`;
    if (!this.warnedUnknown.has(key)) {
      this.warnedUnknown.add(key);
      this.options.logger.warn({ provider: label, model }, 'no price known; calls priced at zero (unknownPricePolicy: allow-at-zero)');
    }
    return { micros: 0, source: 'unknown' };
  }
}

/** $ per million tokens is exactly micro-dollars per token. */
function overrideMicros(price: PriceOverride, split: TokenSplit): number {
  const micros =
    split.uncachedInput * price.inputPerMTok +
    split.cachedInput * (price.cachedInputPerMTok ?? price.inputPerMTok) +
    split.cacheWrite * (price.cacheWritePerMTok ?? price.inputPerMTok) +
    split.plainOutput * price.outputPerMTok +
    split.reasoning * (price.reasoningPerMTok ?? price.outputPerMTok);
  return dollarsToMicros(micros / 1_000_000);
}
