// gateway.yaml `state` -> a StateStore. The memory store also starts its periodic snapshots;
// the returned `close` stops them and writes the final snapshot (call it on shutdown).
import type { Logger } from 'pino';
import type { Clock } from './clock.ts';
import { MemoryStateStore } from './memory-store.ts';
import type { StateConfig } from './schema.ts';
import type { StateStore } from './store.ts';

export async function createStateStore(config: StateConfig, deps: { clock: Clock; logger: Logger }): Promise<{ store: StateStore; close: () => Promise<void> }> {
  if (config.type === 'redis') {
    // Loaded only here: ioredis costs a worker ~15 MB of RSS it never uses with in-memory state.
    const { RedisStateStore, connectRedis } = await import('./redis-store.ts');
    const client = connectRedis(config.url, config.commandTimeoutMs);
    client.on('error', (error: Error) => deps.logger.warn({ err: error }, 'redis connection error'));
    const store = new RedisStateStore({ client, keyPrefix: config.keyPrefix, commandTimeoutMs: config.commandTimeoutMs, reservationTtlMs: config.reservationTtlMs, idempotencyTtlMs: config.idempotencyTtlMs });
    return { store, close: () => store.close() };
  }
  const store = await MemoryStateStore.open({ dir: config.dir, reservationTtlMs: config.reservationTtlMs, idempotencyTtlMs: config.idempotencyTtlMs, clock: deps.clock });
  const stop = store.startSnapshots(config.snapshotIntervalMs, (error) => deps.logger.error({ err: error }, 'governance snapshot failed'));
  return {
    store,
    close: async () => {
      stop();
      await store.close();
    },
  };
}
