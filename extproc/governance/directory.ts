// Teams, customers and access profiles, looked up at request time: gateway.yaml first (the
// current config, so a hot reload applies to every attached key at once), then entities created
// through the admin API in the state store, cached for `cacheTtlMs` so every replica sees an admin
// edit within that delay.
import type { Clock } from './clock.ts';
import type { Customer, GovernanceConfig, Profile, Team } from './schema.ts';
import type { DocKind, StateStore } from './store.ts';

export interface Directory {
  team(id: string): Promise<Team | undefined>;
  customer(id: string): Promise<Customer | undefined>;
  profile(name: string): Promise<Profile | undefined>;
}

export type DirectoryConfig = Pick<GovernanceConfig, 'teams' | 'customers' | 'profiles'>;

export interface StoreDirectoryOptions {
  config: () => DirectoryConfig;
  store: StateStore;
  clock: Clock;
  /** Default 2 s. */
  cacheTtlMs?: number;
}

export class StoreDirectory implements Directory {
  private readonly options: StoreDirectoryOptions;
  private readonly cache = new Map<string, { json: string | undefined; fetchedAtMs: number }>();

  constructor(options: StoreDirectoryOptions) {
    this.options = options;
  }

  async team(id: string): Promise<Team | undefined> {
    return this.options.config().teams.find((team) => team.id === id) ?? (await this.dynamic<Team>('team', id));
  }

  async customer(id: string): Promise<Customer | undefined> {
    return this.options.config().customers.find((customer) => customer.id === id) ?? (await this.dynamic<Customer>('customer', id));
  }

  async profile(name: string): Promise<Profile | undefined> {
    return this.options.config().profiles.find((profile) => profile.name === name) ?? (await this.dynamic<Profile>('profile', name));
  }

  /** Forget cached copies after a local admin write, so this replica sees it at once. */
  invalidate(kind: DocKind, id: string): void {
    this.cache.delete(`${kind}\u0000${id}`);
  }

  private async dynamic<T>(kind: DocKind, id: string): Promise<T | undefined> {
    const cacheKey = `${kind}\u0000${id}`;
    const now = this.options.clock.now();
    const cached = this.cache.get(cacheKey);
    let json: string | undefined;
    if (cached && now - cached.fetchedAtMs < (this.options.cacheTtlMs ?? 2000)) {
      json = cached.json;
    } else {
      try {
        json = await this.options.store.getDoc(kind, id);
        this.cache.set(cacheKey, { json, fetchedAtMs: now });
      } catch (error) {
        if (!cached) throw error;
        json = cached.json; // store down: the last known copy beats refusing every request
      }
    }
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }
}
