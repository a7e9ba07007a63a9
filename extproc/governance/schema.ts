// zod schemas for the gateway.yaml sections governance owns: virtualKeys, teams, customers,
// profiles, admins, state, pricing, budgetTimeZone. The config loader merges
// `GovernanceConfigSchema.shape` into the full gateway.yaml schema.
// Parsed (output) types are normalised: money in integer micro-dollars, durations in ms.
import { z } from 'zod';
import { parseDurationMs } from './duration.ts';

const MICROS_PER_USD = 1_000_000;

const durationString = z.string().transform((text, ctx) => {
  try {
    return parseDurationMs(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** A spend limit written in dollars (`limitUsd: 25`) or micro-dollars (`limitMicros: 25000000`). */
const budgetInput = z
  .object({
    window: z.enum(['daily', 'weekly', 'monthly', 'rolling']),
    limitUsd: z.number().nonnegative().optional(),
    limitMicros: z.int().nonnegative().optional(),
    /** rolling only: the sliding window length, e.g. "24h". */
    duration: durationString.optional(),
    /** rolling only: bucket granularity; the window slides one bucket at a time. Default 1/24. */
    bucket: durationString.optional(),
  })
  .strict();

export const BudgetSchema = budgetInput.transform((input, ctx) => {
  if ((input.limitUsd === undefined) === (input.limitMicros === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'a budget needs exactly one of limitUsd or limitMicros' });
    return z.NEVER;
  }
  // Rounded once here so every later comparison is integer arithmetic.
  const limitMicros = input.limitMicros ?? Math.round((input.limitUsd as number) * MICROS_PER_USD);
  if (input.window !== 'rolling') {
    if (input.duration !== undefined || input.bucket !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'duration/bucket apply to rolling budgets only' });
      return z.NEVER;
    }
    return { window: input.window, limitMicros };
  }
  if (input.duration === undefined) {
    ctx.addIssue({ code: 'custom', message: 'a rolling budget needs a duration, e.g. 24h' });
    return z.NEVER;
  }
  const bucketMs = input.bucket ?? Math.max(1000, Math.floor(input.duration / 24));
  if (input.duration % bucketMs !== 0) {
    ctx.addIssue({ code: 'custom', message: 'a rolling budget duration must be a whole number of buckets' });
    return z.NEVER;
  }
  if (input.duration / bucketMs > 1000) {
    ctx.addIssue({ code: 'custom', message: 'a rolling budget may have at most 1000 buckets' });
    return z.NEVER;
  }
  return { window: 'rolling' as const, limitMicros, durationMs: input.duration, bucketMs };
});
export type Budget = z.output<typeof BudgetSchema>;
export type BudgetInput = z.input<typeof BudgetSchema>;

const positiveInt = z.int().positive();
export const RateLimitsSchema = z
  .object({
    requestsPerMinute: positiveInt.optional(),
    requestsPerHour: positiveInt.optional(),
    tokensPerMinute: positiveInt.optional(),
    tokensPerHour: positiveInt.optional(),
  })
  .strict();
export type RateLimits = z.output<typeof RateLimitsSchema>;

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'ids use letters, digits, . _ - (max 128)');

/** The fields an access profile defines and a key may override one by one. */
export const PolicyFieldsSchema = z
  .object({
    /** Provider names or types allowed; exact names or globs (`*`, `?`). Absent = all. */
    providers: z.array(z.string().min(1)).optional(),
    /** Models allowed; exact names or globs, e.g. `gpt-4o*`, `claude-*-sonnet-*`. Absent = all. */
    models: z.array(z.string().min(1)).optional(),
    budgets: z.array(BudgetSchema).optional(),
    rateLimits: RateLimitsSchema.optional(),
    guardrailPolicy: z.string().min(1).optional(),
  })
  .strict();
export type PolicyFields = z.output<typeof PolicyFieldsSchema>;

export const ProfileSchema = PolicyFieldsSchema.extend({ name: id });
export type Profile = z.output<typeof ProfileSchema>;

export const CustomerSchema = z
  .object({ id, name: z.string().optional(), budgets: z.array(BudgetSchema).optional(), rateLimits: RateLimitsSchema.optional() })
  .strict();
export type Customer = z.output<typeof CustomerSchema>;

export const TeamSchema = CustomerSchema.extend({ customerId: id.optional() });
export type Team = z.output<typeof TeamSchema>;

/** `hmac-sha256:<64 hex>`: HMAC-SHA256 of the raw key under the server secret. */
export const KeyHashSchema = z.string().regex(/^hmac-sha256:[0-9a-f]{64}$/, 'expected hmac-sha256:<64 lowercase hex>');

const isoDateMs = z.union([
  z.iso.datetime({ offset: true }).transform((text) => Date.parse(text)),
  z.int().nonnegative(),
]);

export const VirtualKeySchema = PolicyFieldsSchema.extend({
  id,
  name: z.string().min(1),
  hash: KeyHashSchema,
  teamId: id.optional(),
  customerId: id.optional(),
  /** ISO 8601 with offset, or epoch ms. Absent = never expires. */
  expiresAt: isoDateMs.optional(),
  active: z.boolean().default(true),
  /** Target names tried in order, replacing the route's fallback chain for this key. */
  fallbackChain: z.array(z.string().min(1)).optional(),
  /** Access profile attached by name; the fields above override it one by one. */
  profile: id.optional(),
  metadata: z.record(z.string(), z.string()).default({}),
}).strict();
export type VirtualKeyConfig = z.output<typeof VirtualKeySchema>;

export const AdminScopeSchema = z.string().regex(/^(global|customer:.+|team:.+)$/, 'scope is global, customer:<id> or team:<id>');
export const AdminCredentialSchema = z
  .object({ id, hash: KeyHashSchema, scopes: z.array(AdminScopeSchema).min(1) })
  .strict();
export type AdminCredentialConfig = z.output<typeof AdminCredentialSchema>;

export const StateSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('memory'),
      /** Where spend snapshots live so they survive a restart. Absent = not persisted. */
      dir: z.string().min(1).optional(),
      snapshotIntervalMs: z.int().positive().default(5000),
      reservationTtlMs: z.int().positive().default(600_000),
      idempotencyTtlMs: z.int().positive().default(86_400_000),
    })
    .strict(),
  z
    .object({
      type: z.literal('redis'),
      url: z.string().min(1),
      commandTimeoutMs: z.int().positive().default(250),
      /** Replicas of the ext_proc service sharing this Redis: a degraded rate limit is limit / replicas. */
      replicas: z.int().positive().default(1),
      keyPrefix: z.string().regex(/^[A-Za-z0-9_-]+$/).default('sb'),
      reservationTtlMs: z.int().positive().default(600_000),
      idempotencyTtlMs: z.int().positive().default(86_400_000),
    })
    .strict(),
]);
export type StateConfig = z.output<typeof StateSchema>;

const pricePerMTok = z.number().nonnegative();
export const PriceOverrideSchema = z
  .object({
    /** Provider type (openai, vllm, ...) or configured provider name; glob allowed. */
    provider: z.string().min(1),
    /** Model name; exact or glob. */
    model: z.string().min(1),
    /** Dollars per million tokens (= micro-dollars per token). */
    inputPerMTok: pricePerMTok,
    outputPerMTok: pricePerMTok,
    cachedInputPerMTok: pricePerMTok.optional(),
    cacheWritePerMTok: pricePerMTok.optional(),
    /** If set, reasoning tokens (a part of output tokens) are billed at this rate instead. */
    reasoningPerMTok: pricePerMTok.optional(),
  })
  .strict();
export type PriceOverride = z.output<typeof PriceOverrideSchema>;

export const PricingSchema = z
  .object({
    overrides: z.array(PriceOverrideSchema).default([]),
    unknownPricePolicy: z.enum(['reject', 'allow-at-zero']).default('reject'),
  })
  .strict();
export type PricingConfig = z.output<typeof PricingSchema>;

export const TimeZoneSchema = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone');

export const GovernanceConfigSchema = z.object({
  virtualKeys: z.array(VirtualKeySchema).default([]),
  teams: z.array(TeamSchema).default([]),
  customers: z.array(CustomerSchema).default([]),
  profiles: z.array(ProfileSchema).default([]),
  admins: z.array(AdminCredentialSchema).default([]),
  state: StateSchema.default({ type: 'memory', snapshotIntervalMs: 5000, reservationTtlMs: 600_000, idempotencyTtlMs: 86_400_000 }),
  pricing: PricingSchema.default({ overrides: [], unknownPricePolicy: 'reject' }),
  /** Calendar budgets (daily/weekly/monthly) reset at local midnight in this zone. */
  budgetTimeZone: TimeZoneSchema.default('UTC'),
});
export type GovernanceConfig = z.output<typeof GovernanceConfigSchema>;
