// Prometheus metrics of governance and accounting. The registry is injected so each test (and each
// embedding) owns its own and names never collide.
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

export interface GovernanceMetrics {
  /** A state-store call failed or timed out. */
  stateStoreUnavailable: Counter<'operation'>;
  /** A rate limit was checked against this replica's share because the shared store was down. */
  rateLimitDegraded: Counter;
  /** A request was refused because its budget could not be checked. */
  budgetFailClosed: Counter;
  /** A call was priced at zero because neither the catalog nor config knew the model. */
  priceUnknown: Counter<'provider' | 'model'>;
}

export function createGovernanceMetrics(registry: Registry): GovernanceMetrics {
  return {
    stateStoreUnavailable: new Counter({
      name: 'switchboard_state_store_unavailable_total',
      help: 'State store calls that failed or timed out, by operation',
      labelNames: ['operation'],
      registers: [registry],
    }),
    rateLimitDegraded: new Counter({
      name: 'switchboard_ratelimit_degraded_total',
      help: 'Rate-limit checks done locally with limit / replicas because the state store was unavailable',
      registers: [registry],
    }),
    budgetFailClosed: new Counter({
      name: 'switchboard_budget_fail_closed_total',
      help: 'Requests refused because the state store could not check their budget',
      registers: [registry],
    }),
    priceUnknown: new Counter({
      name: 'switchboard_price_unknown_total',
      help: 'Calls priced at zero because no price was known (unknownPricePolicy: allow-at-zero)',
      labelNames: ['provider', 'model'],
      registers: [registry],
    }),
  };
}
