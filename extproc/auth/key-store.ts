// Where virtual keys are found by hash: keys declared in gateway.yaml (read from the current
// config on every lookup, so a hot reload applies at once) and dynamic keys created through the
// admin API, kept in the state store and cached briefly in process.
import type { Clock } from '../governance/clock.ts';
import type { VirtualKeyConfig } from '../governance/schema.ts';
import type { StateStore } from '../governance/store.ts';
import type { VirtualKeyRecord } from './key-record.ts';

export interface KeyLookup {
  /** The key whose stored hash equals `hash`, or undefined. May throw StateStoreUnavailableError. */
  findByHash(hash: string): Promise<VirtualKeyRecord | undefined>;
}

/** Keys declared in gateway.yaml. The index is rebuilt when the config array changes identity. */
export class ConfigKeyLookup implements KeyLookup {
  private readonly current: () => readonly VirtualKeyConfig[];
  private indexedFrom: readonly VirtualKeyConfig[] | undefined;
  private index = new Map<string, VirtualKeyRecord>();

  constructor(current: () => readonly VirtualKeyConfig[]) {
    this.current = current;
  }

  async findByHash(hash: string): Promise<VirtualKeyRecord | undefined> {
    const keys = this.current();
    if (keys !== this.indexedFrom) {
      this.index = new Map(keys.map((key) => [key.hash, { ...key, source: 'config' as const }]));
      this.indexedFrom = keys;
    }
    return this.index.get(hash);
  }
}

export interface DynamicKeyStoreOptions {
  store: StateStore;
  clock: Clock;
  /** How long a found key is trusted without asking the store again (revocation delay). Default 2 s. */
  cacheTtlMs?: number;
}

/** Admin-created keys in the state store: `virtualKey` doc by id, `keyHash` doc hash -> id. */
export class DynamicKeyStore implements KeyLookup {
  private readonly options: DynamicKeyStoreOptions;
  private readonly cache = new Map<string, { record: VirtualKeyRecord | undefined; fetchedAtMs: number }>();

  constructor(options: DynamicKeyStoreOptions) {
    this.options = options;
  }

  async findByHash(hash: string): Promise<VirtualKeyRecord | undefined> {
    const now = this.options.clock.now();
    const cached = this.cache.get(hash);
    if (cached && now - cached.fetchedAtMs < (this.options.cacheTtlMs ?? 2000)) return cached.record;
    try {
      const id = await this.options.store.getDoc('keyHash', hash);
      const record = id === undefined ? undefined : await this.get(id);
      // A stale hash index entry (key rotated) must not authenticate the old key.
      const found = record && record.hash === hash ? record : undefined;
      if (this.cache.size > 10_000) this.cache.clear(); // bounded: random unknown keys cannot grow it
      this.cache.set(hash, { record: found, fetchedAtMs: now });
      return found;
    } catch (error) {
      // Store down: a key seen recently still works; an unseen one cannot be checked.
      if (cached?.record) return cached.record;
      throw error;
    }
  }

  async get(id: string): Promise<VirtualKeyRecord | undefined> {
    const json = await this.options.store.getDoc('virtualKey', id);
    return json === undefined ? undefined : (JSON.parse(json) as VirtualKeyRecord);
  }

  async list(): Promise<VirtualKeyRecord[]> {
    const docs = await this.options.store.listDocs('virtualKey');
    return [...docs.values()].map((json) => JSON.parse(json) as VirtualKeyRecord);
  }

  /** Writes the record and its hash index; drops the index entry of a replaced hash (rotation). */
  async put(record: VirtualKeyRecord): Promise<void> {
    const previous = await this.get(record.id);
    await this.options.store.putDoc('virtualKey', record.id, JSON.stringify(record));
    await this.options.store.putDoc('keyHash', record.hash, record.id);
    if (previous && previous.hash !== record.hash) await this.options.store.deleteDoc('keyHash', previous.hash);
    this.cache.delete(record.hash);
    if (previous) this.cache.delete(previous.hash);
  }
}

/** Config keys first, then dynamic ones. */
export class CombinedKeyLookup implements KeyLookup {
  private readonly sources: KeyLookup[];

  constructor(...sources: KeyLookup[]) {
    this.sources = sources;
  }

  async findByHash(hash: string): Promise<VirtualKeyRecord | undefined> {
    for (const source of this.sources) {
      const found = await source.findByHash(hash);
      if (found) return found;
    }
    return undefined;
  }
}
