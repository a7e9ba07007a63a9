// Shared builders for governance tests: a config, a key, a Governance over a given store.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Principal, VirtualKeyRecord } from '../../../extproc/auth/key-record.ts';
import { StoreDirectory } from '../../../extproc/governance/directory.ts';
import { Governance } from '../../../extproc/governance/governance.ts';
import { createGovernanceMetrics } from '../../../extproc/governance/metrics.ts';
import { GovernanceConfigSchema } from '../../../extproc/governance/schema.ts';
import type { GovernanceConfig } from '../../../extproc/governance/schema.ts';
import type { StateStore } from '../../../extproc/governance/store.ts';

export class TestClock {
  ms: number;
  constructor(ms: number) {
    this.ms = ms;
  }
  now(): number {
    return this.ms;
  }
}

export function parseConfig(raw: unknown): GovernanceConfig {
  return GovernanceConfigSchema.parse(raw);
}

export function principalFor(config: GovernanceConfig, keyId: string): Principal {
  const key = config.virtualKeys.find((candidate) => candidate.id === keyId);
  if (!key) throw new Error(`no key ${keyId}`);
  const record: VirtualKeyRecord = { ...key, source: 'config' };
  return { keyId: key.id, keyName: key.name, teamId: key.teamId, customerId: key.customerId, key: record };
}

export const HASH = (n: number): string => `hmac-sha256:${n.toString(16).padStart(64, '0')}`;

export function governanceFor(options: { config: () => GovernanceConfig; store: StateStore; clock: TestClock; replicas?: number }) {
  const registry = new Registry();
  const metrics = createGovernanceMetrics(registry);
  const logLines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(line) });
  const directory = new StoreDirectory({ config: options.config, store: options.store, clock: options.clock });
  const governance = new Governance({
    store: options.store,
    directory,
    logger,
    metrics,
    timeZone: () => options.config().budgetTimeZone,
    replicas: options.replicas ?? 1,
    reservationTtlMs: 600_000,
    clock: options.clock,
  });
  const metricValue = async (name: string): Promise<number> => {
    const metric = await registry.getSingleMetric(name)!.get();
    return metric.values.reduce((sum, value) => sum + value.value, 0);
  };
  return { governance, registry, metrics, logLines, directory, metricValue };
}
