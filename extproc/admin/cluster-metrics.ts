// /metrics for the whole gateway, not one worker: each worker keeps its own prom-client registry,
// so the worker that serves the admin API asks the supervisor, the supervisor collects every
// worker's metrics as JSON over IPC, and the asking worker merges them with
// AggregatorRegistry.aggregate (counters and histograms summed across workers).
//   worker 0 --metrics-request--> supervisor --metrics-collect--> every worker
//   worker 0 <-metrics-aggregate- supervisor <--metrics-part----- every worker
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { AggregatorRegistry } from 'prom-client';
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

interface MetricsRequest { type: 'metrics-request'; id: string }
interface MetricsCollect { type: 'metrics-collect'; id: string }
interface MetricsPart { type: 'metrics-part'; id: string; metrics: MetricsJson }
interface MetricsAggregate { type: 'metrics-aggregate'; id: string; parts: MetricsJson[] }

function isMessage<T extends { type: string }>(msg: unknown, type: T['type']): msg is T {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === type;
}

/** Worker side: answers the supervisor's collection requests with this process's registry. */
export function answerMetricsCollection(registry: Registry): void {
  process.on('message', (msg: unknown) => {
    if (!isMessage<MetricsCollect>(msg, 'metrics-collect')) return;
    void registry.getMetricsAsJSON().then((metrics) => {
      if (process.connected) process.send?.({ type: 'metrics-part', id: msg.id, metrics } satisfies MetricsPart);
    });
  });
}

/**
 * Worker side: the gateway's metrics summed over every worker. Falls back to this worker's own
 * registry when it runs without a supervisor or the supervisor does not answer in `timeoutMs`.
 */
export async function gatewayMetrics(registry: Registry, timeoutMs = 2000): Promise<{ contentType: string; body: string }> {
  const local = async () => ({ contentType: registry.contentType, body: await registry.metrics() });
  if (!process.send || !process.connected) return local();
  const id = randomUUID();
  const parts = await new Promise<MetricsJson[] | undefined>((resolve) => {
    const timer = setTimeout(() => done(undefined), timeoutMs);
    const onMessage = (msg: unknown) => {
      if (isMessage<MetricsAggregate>(msg, 'metrics-aggregate') && msg.id === id) done(msg.parts);
    };
    function done(value: MetricsJson[] | undefined) {
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(value);
    }
    process.on('message', onMessage);
    process.send?.({ type: 'metrics-request', id } satisfies MetricsRequest);
  });
  if (!parts || parts.length === 0) return local();
  const merged = AggregatorRegistry.aggregate(parts);
  return { contentType: merged.contentType, body: await merged.metrics() };
}

/** Supervisor side: relays a worker's metrics request to every worker and returns the parts. */
export function relayMetrics(workers: readonly ChildProcess[], timeoutMs = 1500): void {
  for (const asker of workers) {
    asker.on('message', (msg: unknown) => {
      if (!isMessage<MetricsRequest>(msg, 'metrics-request')) return;
      const live = workers.filter((w) => w.connected);
      const parts: MetricsJson[] = [];
      const collectId = msg.id;
      const listeners = new Map<ChildProcess, (m: unknown) => void>();
      const finish = () => {
        clearTimeout(timer);
        for (const [w, l] of listeners) w.off('message', l);
        if (asker.connected) asker.send({ type: 'metrics-aggregate', id: collectId, parts } satisfies MetricsAggregate);
      };
      // A worker that does not answer in time is left out rather than holding up the scrape.
      const timer = setTimeout(finish, timeoutMs);
      for (const w of live) {
        const listener = (m: unknown) => {
          if (!isMessage<MetricsPart>(m, 'metrics-part') || m.id !== collectId) return;
          w.off('message', listener);
          listeners.delete(w);
          parts.push(m.metrics);
          if (listeners.size === 0) finish();
        };
        listeners.set(w, listener);
        w.on('message', listener);
        w.send({ type: 'metrics-collect', id: collectId } satisfies MetricsCollect);
      }
      if (live.length === 0) finish();
    });
  }
}
