// Prometheus metrics for the request path. One registry per process, served on the admin port.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    requests: new Counter({ name: 'switchboard_requests_total', help: 'Requests by dialect, outcome and status', labelNames: ['dialect', 'outcome', 'status'], registers: [registry] }),
    rejections: new Counter({ name: 'switchboard_rejections_total', help: 'Requests rejected by the gateway, by error code', labelNames: ['code'], registers: [registry] }),
    attempts: new Counter({ name: 'switchboard_upstream_attempts_total', help: 'Upstream attempts by provider, model and status', labelNames: ['provider', 'model', 'status'], registers: [registry] }),
    tokens: new Counter({ name: 'switchboard_tokens_total', help: 'Tokens by provider, model and kind', labelNames: ['provider', 'model', 'kind'], registers: [registry] }),
    costMicros: new Counter({ name: 'switchboard_cost_microdollars_total', help: 'Settled cost in micro-dollars', labelNames: ['provider', 'model'], registers: [registry] }),
    guardrailFindings: new Counter({ name: 'switchboard_guardrail_findings_total', help: 'Guardrail findings by rule and action', labelNames: ['rule', 'action'], registers: [registry] }),
    processingSeconds: new Histogram({ name: 'switchboard_phase_seconds', help: 'Time Switchboard spends per ext_proc message', labelNames: ['phase'], buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05], registers: [registry] }),
    accountingFailures: new Counter({ name: 'switchboard_accounting_failures_total', help: 'Settle/release/audit calls that failed', labelNames: ['what'], registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
