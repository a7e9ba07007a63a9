// Admin operations (the HTTP listener is mounted elsewhere): keys, teams, customers, profiles,
// spend. Callers hold scopes: `global`, `customer:<id>`, `team:<id>`. A caller never grants more
// than its scope: it acts only inside it, and a key or team it creates cannot carry a budget or
// rate limit larger than the enclosing team's or customer's. Entities declared in gateway.yaml
// are read-only here (edit the file instead).
import { randomBytes } from 'node:crypto';
import type { VirtualKeyRecord } from '../auth/key-record.ts';
import type { DynamicKeyStore } from '../auth/key-store.ts';
import { generateVirtualKey, hashVirtualKey } from '../auth/virtual-key.ts';
import type { RandomBytes } from '../auth/virtual-key.ts';
import { buildCharges } from './charges.ts';
import type { Clock } from './clock.ts';
import type { StoreDirectory } from './directory.ts';
import { mergeProfile, partitionOf, resolvePolicy } from './policy.ts';
import type { Level } from './policy.ts';
import { CustomerSchema, PolicyFieldsSchema, ProfileSchema, TeamSchema } from './schema.ts';
import type { Budget, Customer, GovernanceConfig, PolicyFields, Profile, RateLimits, Team } from './schema.ts';
import type { StateStore } from './store.ts';
import { z } from 'zod';

export type AdminScope = string; // 'global' | `customer:${id}` | `team:${id}`

export interface AdminCaller {
  id: string;
  scopes: AdminScope[];
}

export class AdminError extends Error {
  override readonly name = 'AdminError';
  readonly status: 400 | 403 | 404 | 409;
  constructor(status: 400 | 403 | 404 | 409, message: string) {
    super(message);
    this.status = status;
  }
}

export const CreateKeyInputSchema = PolicyFieldsSchema.extend({
  name: z.string().min(1),
  teamId: z.string().optional(),
  customerId: z.string().optional(),
  expiresAt: z.int().nonnegative().optional(),
  fallbackChain: z.array(z.string().min(1)).optional(),
  profile: z.string().optional(),
  metadata: z.record(z.string(), z.string()).default({}),
}).strict();
export type CreateKeyInput = z.input<typeof CreateKeyInputSchema>;
export const UpdateKeyInputSchema = CreateKeyInputSchema.partial().extend({ active: z.boolean().optional() }).strict();
export type UpdateKeyInput = z.input<typeof UpdateKeyInputSchema>;

/** A key as admins see it: never the hash (nor, of course, the raw key). */
export type KeyView = Omit<VirtualKeyRecord, 'hash'>;

export interface SpendReport {
  level: Level;
  id: string;
  budgets: { budget: Budget; enforced: boolean; spentMicros: number; reservedMicros: number }[];
  /** Settled requests in the ledger of this scope's partition charged to this scope. */
  ledger: { requests: number; micros: number; tokens: number };
}

export interface AdminServiceOptions {
  config: () => GovernanceConfig;
  store: StateStore;
  keys: DynamicKeyStore;
  directory: StoreDirectory;
  secret: Uint8Array;
  clock: Clock;
  randomBytes?: RandomBytes;
  newId?: () => string;
}

const RATE_FIELDS = ['requestsPerMinute', 'requestsPerHour', 'tokensPerMinute', 'tokensPerHour'] as const;

export class AdminService {
  private readonly options: AdminServiceOptions;

  constructor(options: AdminServiceOptions) {
    this.options = options;
  }

  // ---- keys ----

  /** Returns the raw key exactly once; only its HMAC is stored. */
  async createKey(caller: AdminCaller, input: CreateKeyInput): Promise<{ key: string; record: KeyView }> {
    const fields = parse(CreateKeyInputSchema, input);
    const raw = generateVirtualKey(this.options.randomBytes);
    const record: VirtualKeyRecord = {
      ...fields,
      id: this.options.newId?.() ?? `key_${(this.options.randomBytes ?? randomBytes)(9).toString('base64url')}`,
      hash: hashVirtualKey(raw, this.options.secret),
      active: true,
      source: 'dynamic',
      createdAtMs: this.options.clock.now(),
    };
    await this.checkKeyWithinScope(caller, record);
    await this.options.keys.put(record);
    return { key: raw, record: view(record) };
  }

  async listKeys(caller: AdminCaller): Promise<KeyView[]> {
    const all: VirtualKeyRecord[] = [
      ...this.options.config().virtualKeys.map((key) => ({ ...key, source: 'config' as const })),
      ...(await this.options.keys.list()),
    ];
    const visible: KeyView[] = [];
    for (const key of all) if (await this.ownsKey(caller, key)) visible.push(view(key));
    return visible;
  }

  async updateKey(caller: AdminCaller, id: string, patch: UpdateKeyInput): Promise<KeyView> {
    const current = await this.dynamicKey(caller, id);
    const changes = parse(UpdateKeyInputSchema, patch);
    const next: VirtualKeyRecord = { ...current, ...changes };
    await this.checkKeyWithinScope(caller, next);
    await this.options.keys.put(next);
    return view(next);
  }

  /** New secret, same id and policy; the old key stops working at once. */
  async rotateKey(caller: AdminCaller, id: string): Promise<{ key: string; record: KeyView }> {
    const current = await this.dynamicKey(caller, id);
    const raw = generateVirtualKey(this.options.randomBytes);
    const next: VirtualKeyRecord = { ...current, hash: hashVirtualKey(raw, this.options.secret) };
    await this.options.keys.put(next);
    return { key: raw, record: view(next) };
  }

  async revokeKey(caller: AdminCaller, id: string): Promise<KeyView> {
    const current = await this.dynamicKey(caller, id);
    const next: VirtualKeyRecord = { ...current, active: false, revokedAtMs: this.options.clock.now() };
    await this.options.keys.put(next);
    return view(next);
  }

  // ---- teams, customers, profiles ----

  async putCustomer(caller: AdminCaller, input: unknown): Promise<Customer> {
    const customer = parse(CustomerSchema, input);
    if (!hasScope(caller, 'global') && !hasScope(caller, `customer:${customer.id}`)) throw forbidden('customer', customer.id);
    this.refuseConfigDeclared(this.options.config().customers.some((c) => c.id === customer.id), 'customer', customer.id);
    // A customer admin may edit its customer's name, not lift its own limits.
    if (!hasScope(caller, 'global')) {
      const existing = await this.options.directory.customer(customer.id);
      if (!existing) throw forbidden('customer', customer.id);
      ensureWithin(customer, existing, `customer "${customer.id}"`);
    }
    await this.saveDoc('customer', customer.id, customer);
    return customer;
  }

  async putTeam(caller: AdminCaller, input: unknown): Promise<Team> {
    const team = parse(TeamSchema, input);
    this.refuseConfigDeclared(this.options.config().teams.some((t) => t.id === team.id), 'team', team.id);
    const existing = await this.options.directory.team(team.id);
    if (!hasScope(caller, 'global')) {
      const customerId = team.customerId ?? existing?.customerId;
      const asCustomer = customerId !== undefined && hasScope(caller, `customer:${customerId}`) && (existing === undefined || existing.customerId === customerId);
      const asTeam = existing !== undefined && hasScope(caller, `team:${team.id}`) && existing.customerId === team.customerId;
      if (!asCustomer && !asTeam) throw forbidden('team', team.id);
      if (asTeam && !asCustomer) ensureWithin(team, existing as Team, `team "${team.id}"`);
    }
    if (team.customerId !== undefined) {
      const customer = await this.options.directory.customer(team.customerId);
      if (!customer) throw new AdminError(404, `customer "${team.customerId}" does not exist`);
      ensureWithin(team, customer, `customer "${customer.id}"`);
    }
    await this.saveDoc('team', team.id, team);
    return team;
  }

  /** Profiles are shared templates across teams: only global admins edit them. */
  async putProfile(caller: AdminCaller, input: unknown): Promise<Profile> {
    if (!hasScope(caller, 'global')) throw new AdminError(403, 'only a global admin may edit access profiles');
    const profile = parse(ProfileSchema, input);
    this.refuseConfigDeclared(this.options.config().profiles.some((p) => p.name === profile.name), 'profile', profile.name);
    await this.saveDoc('profile', profile.name, profile);
    return profile;
  }

  async deleteEntity(caller: AdminCaller, kind: 'team' | 'customer' | 'profile', id: string): Promise<void> {
    if (!hasScope(caller, 'global')) throw new AdminError(403, `only a global admin may delete a ${kind}`);
    await this.options.store.deleteDoc(kind, id);
    this.options.directory.invalidate(kind, id);
  }

  // ---- spend ----

  /** Current-window spend per budget of one scope, plus its settled ledger totals. */
  async readSpend(caller: AdminCaller, level: Level, id: string): Promise<SpendReport> {
    let partition: string;
    let budgets: Budget[];
    if (level === 'key') {
      const key = await this.findKey(id);
      if (!key || !(await this.ownsKey(caller, key))) throw forbidden('key', id);
      const resolved = await resolvePolicy(key, this.options.directory);
      if (!resolved.ok) throw new AdminError(409, resolved.problem);
      partition = partitionOf(resolved.policy);
      budgets = resolved.policy.levels.at(-1)?.budgets ?? [];
    } else if (level === 'team') {
      const team = await this.options.directory.team(id);
      if (!team || !this.ownsTeam(caller, team)) throw forbidden('team', id);
      partition = team.customerId !== undefined ? `c:${team.customerId}` : `t:${team.id}`;
      budgets = team.budgets ?? [];
    } else {
      const customer = await this.options.directory.customer(id);
      if (!customer || !(hasScope(caller, 'global') || hasScope(caller, `customer:${id}`))) throw forbidden('customer', id);
      partition = `c:${id}`;
      budgets = customer.budgets ?? [];
    }
    const charges = buildCharges([{ level, id, budgets, rateLimits: {} }], this.options.clock.now(), { timeZone: this.options.config().budgetTimeZone });
    const usage = await this.options.store.readBudgets(partition, charges.budgets);
    const prefix = `b:${level}:${id}:`;
    const entries = (await this.options.store.readLedger(partition)).filter((entry) => entry.budgetCounters.some((counter) => counter.startsWith(prefix)));
    return {
      level,
      id,
      budgets: charges.budgets.map((charge, i) => ({ budget: charge.budget, enforced: charge.enforced, ...(usage[i] as { spentMicros: number; reservedMicros: number }) })),
      ledger: {
        requests: entries.length,
        micros: entries.reduce((sum, entry) => sum + entry.micros, 0),
        tokens: entries.reduce((sum, entry) => sum + entry.tokens, 0),
      },
    };
  }

  // ---- scope checks ----

  private async checkKeyWithinScope(caller: AdminCaller, key: VirtualKeyRecord): Promise<void> {
    const team = key.teamId !== undefined ? await this.options.directory.team(key.teamId) : undefined;
    if (key.teamId !== undefined && !team) throw new AdminError(404, `team "${key.teamId}" does not exist`);
    if (team?.customerId !== undefined && key.customerId !== undefined && key.customerId !== team.customerId) {
      throw new AdminError(400, `team "${team.id}" belongs to customer "${team.customerId}", not "${key.customerId}"`);
    }
    if (!(await this.ownsKey(caller, key))) throw forbidden('key for', key.teamId ?? key.customerId ?? 'no team');
    let profile: PolicyFields | undefined;
    if (key.profile !== undefined) {
      profile = await this.options.directory.profile(key.profile);
      if (!profile) throw new AdminError(404, `access profile "${key.profile}" does not exist`);
    }
    const effective = mergeProfile(profile, key);
    if (team) ensureWithin(effective, team, `team "${team.id}"`);
    const customerId = team?.customerId ?? key.customerId;
    if (customerId !== undefined) {
      const customer = await this.options.directory.customer(customerId);
      if (!customer) throw new AdminError(404, `customer "${customerId}" does not exist`);
      ensureWithin(effective, customer, `customer "${customerId}"`);
    }
  }

  private async ownsKey(caller: AdminCaller, key: Pick<VirtualKeyRecord, 'teamId' | 'customerId'>): Promise<boolean> {
    if (hasScope(caller, 'global')) return true;
    if (key.teamId !== undefined) {
      const team = await this.options.directory.team(key.teamId);
      return team !== undefined && this.ownsTeam(caller, team);
    }
    return key.customerId !== undefined && hasScope(caller, `customer:${key.customerId}`);
  }

  private ownsTeam(caller: AdminCaller, team: Team): boolean {
    return hasScope(caller, 'global') || hasScope(caller, `team:${team.id}`) || (team.customerId !== undefined && hasScope(caller, `customer:${team.customerId}`));
  }

  private async dynamicKey(caller: AdminCaller, id: string): Promise<VirtualKeyRecord> {
    this.refuseConfigDeclared(this.options.config().virtualKeys.some((key) => key.id === id), 'key', id);
    const key = await this.options.keys.get(id);
    if (!key || !(await this.ownsKey(caller, key))) throw new AdminError(404, `key "${id}" not found`);
    return key;
  }

  private async findKey(id: string): Promise<VirtualKeyRecord | undefined> {
    const declared = this.options.config().virtualKeys.find((key) => key.id === id);
    return declared ? { ...declared, source: 'config' } : this.options.keys.get(id);
  }

  private refuseConfigDeclared(declared: boolean, kind: string, id: string): void {
    if (declared) throw new AdminError(409, `${kind} "${id}" is declared in gateway.yaml; change it there`);
  }

  private async saveDoc(kind: 'team' | 'customer' | 'profile', id: string, value: unknown): Promise<void> {
    await this.options.store.putDoc(kind, id, JSON.stringify(value));
    this.options.directory.invalidate(kind, id);
  }
}

function hasScope(caller: AdminCaller, scope: AdminScope): boolean {
  return caller.scopes.includes(scope);
}

function forbidden(kind: string, id: string): AdminError {
  return new AdminError(403, `this admin credential has no scope over ${kind} "${id}"`);
}

function parse<T extends z.ZodType>(schema: T, input: unknown): z.output<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw new AdminError(400, z.prettifyError(result.error));
  return result.data;
}

function view(record: VirtualKeyRecord): KeyView {
  const { hash: _hash, ...rest } = record;
  return rest;
}

function sameWindow(a: Budget, b: Budget): boolean {
  if (a.window !== b.window) return false;
  return a.window !== 'rolling' || (b.window === 'rolling' && a.durationMs === b.durationMs);
}

/**
 * Limits granted below a scope may not exceed the scope's own: for every budget window and rate
 * field the parent limits, the child's limit must be present-or-inherited and no larger.
 */
function ensureWithin(child: { budgets?: Budget[]; rateLimits?: RateLimits }, parent: { budgets?: Budget[]; rateLimits?: RateLimits }, parentName: string): void {
  for (const budget of child.budgets ?? []) {
    const ceiling = (parent.budgets ?? []).find((candidate) => sameWindow(candidate, budget));
    if (ceiling && budget.limitMicros > ceiling.limitMicros) {
      throw new AdminError(403, `a ${budget.window} budget of ${budget.limitMicros} micro-dollars exceeds ${parentName}'s ${ceiling.limitMicros}`);
    }
  }
  for (const field of RATE_FIELDS) {
    const value = child.rateLimits?.[field];
    const ceiling = parent.rateLimits?.[field];
    if (value !== undefined && ceiling !== undefined && value > ceiling) {
      throw new AdminError(403, `${field} ${value} exceeds ${parentName}'s ${ceiling}`);
    }
  }
}
