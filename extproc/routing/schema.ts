// The `routing:` and `models:` sections of gateway.yaml. Parsed once at load time; the router
// compiles the parsed result, so every chain a request can take is known before traffic arrives.
import { z } from 'zod';
import { WEEKDAYS, isValidTimeZone, parseClockTime } from './time-window.ts';

/** Conditions that move a failed attempt to the next priority of the chain's Envoy cluster. */
export const RETRY_CONDITIONS = ['5xx', '429', 'connect-failure', 'reset', 'per-attempt-timeout'] as const;
export type RetryCondition = (typeof RETRY_CONDITIONS)[number];
export const DEFAULT_RETRY_ON: readonly RetryCondition[] = RETRY_CONDITIONS;

/** Prefix of the implicit rules made from `models:` entries; explicit rules may not use it. */
export const MODEL_RULE_PREFIX = 'models.';

const nonEmpty = z.string().min(1);

export const targetSchema = z.strictObject({
  provider: nonEmpty,
  model: nonEmpty,
});

/** One pattern or a list of them (any may match). Patterns are globs: `*`, `?`. */
const patternList = z
  .union([nonEmpty, z.array(nonEmpty).min(1)])
  .transform((value) => (Array.isArray(value) ? value : [value]));

const clockTime = z.string().refine((value) => parseClockTime(value) !== undefined, {
  message: 'expected local time "HH:MM" between 00:00 and 24:00',
});

export const timeWindowSchema = z.strictObject({
  days: z.array(z.enum(WEEKDAYS)).min(1).optional(),
  from: clockTime,
  to: clockTime,
  timeZone: z.string().refine(isValidTimeZone, { message: 'unknown IANA time zone' }),
});

export const promptTokensSchema = z
  .strictObject({
    gt: z.number().int().nonnegative().optional(),
    lt: z.number().int().positive().optional(),
  })
  .refine((range) => range.gt !== undefined || range.lt !== undefined, {
    message: 'promptTokens needs gt, lt or both',
  })
  .refine((range) => range.gt === undefined || range.lt === undefined || range.gt < range.lt, {
    message: 'promptTokens.gt must be below promptTokens.lt',
  });

/** Every present criterion must hold (AND); inside one criterion any listed value may (OR). */
export const matchSchema = z.strictObject({
  /** Requested model name or alias, as the client sent it. */
  model: patternList.optional(),
  keyId: patternList.optional(),
  team: patternList.optional(),
  customer: patternList.optional(),
  /** tag name -> accepted value pattern(s); `"*"` means "tag present with any value". */
  tags: z.record(nonEmpty, patternList).optional(),
  promptTokens: promptTokensSchema.optional(),
  /** One window or several (any may match). */
  time: z
    .union([timeWindowSchema, z.array(timeWindowSchema).min(1)])
    .transform((value) => (Array.isArray(value) ? value : [value]))
    .optional(),
});

const retryOnSchema = z
  .array(z.union([z.enum(RETRY_CONDITIONS), z.number().int().min(400).max(599)]))
  .min(1);

/** Timeouts and retry conditions; in defaults, rules and models entries. */
const retryFields = {
  /** Replaces the default list; integers are extra retriable status codes (e.g. 529). */
  retryOn: retryOnSchema.optional(),
  perAttemptTimeoutMs: z.number().int().positive().optional(),
  /** Streams: time allowed until the first byte, after which Envoy can no longer fail over. */
  firstByteTimeoutMs: z.number().int().positive().optional(),
};

export const weightedTargetSchema = z.strictObject({
  provider: nonEmpty,
  model: nonEmpty,
  weight: z.number().nonnegative().default(1),
  /** This target's own fallback chain; replaces the rule-level `fallbacks`. */
  fallbacks: z.array(targetSchema).optional(),
});

const actionFields = {
  targets: z.array(weightedTargetSchema).min(1),
  /** Fallback chain for targets without their own. */
  fallbacks: z.array(targetSchema).optional(),
  /** A longer-context model tried last when a provider reports the context length exceeded. */
  contextLengthExceeded: targetSchema.optional(),
  ...retryFields,
};

const hasPositiveWeight = (action: { targets: { weight: number }[] }): boolean =>
  action.targets.some((target) => target.weight > 0);
const positiveWeightMessage = { message: 'at least one target needs a weight above 0' };

export const modelEntrySchema = z.strictObject(actionFields).refine(hasPositiveWeight, positiveWeightMessage);

export const ruleSchema = z
  .strictObject({
    name: nonEmpty.refine((name) => !name.startsWith(MODEL_RULE_PREFIX), {
      message: `rule names starting with "${MODEL_RULE_PREFIX}" are reserved for models: entries`,
    }),
    /** Absent or empty: the rule matches every request (a catch-all). */
    match: matchSchema.default({}),
    ...actionFields,
  })
  .refine(hasPositiveWeight, positiveWeightMessage);

export const routingSchema = z
  .strictObject({
    /** Applied to every rule and models entry that does not set its own. */
    defaults: z.strictObject(retryFields).optional(),
    /** Ordered; the first rule whose match holds decides. */
    rules: z.array(ruleSchema).default([]),
  })
  .superRefine((routing, ctx) => {
    const seen = new Set<string>();
    routing.rules.forEach((rule, index) => {
      if (seen.has(rule.name)) {
        ctx.addIssue({ code: 'custom', path: ['rules', index, 'name'], message: `duplicate rule name "${rule.name}"` });
      }
      seen.add(rule.name);
    });
  });

/** alias -> targets. Each alias acts as an implicit rule after the explicit ones. */
export const modelsSchema = z.record(nonEmpty, modelEntrySchema);

/** The two sections the router reads; other gateway.yaml sections pass through untouched. */
export const routerConfigSchema = z.object({
  routing: routingSchema.optional(),
  models: modelsSchema.optional(),
});

export type TargetConfig = z.infer<typeof targetSchema>;
export type WeightedTargetConfig = z.infer<typeof weightedTargetSchema>;
export type TimeWindowConfig = z.infer<typeof timeWindowSchema>;
export type MatchConfig = z.infer<typeof matchSchema>;
export type RuleConfig = z.infer<typeof ruleSchema>;
export type ModelEntryConfig = z.infer<typeof modelEntrySchema>;
export type RoutingConfig = z.infer<typeof routingSchema>;
export type ModelsConfig = z.infer<typeof modelsSchema>;
export type RouterConfig = z.infer<typeof routerConfigSchema>;
export type RetryOn = z.infer<typeof retryOnSchema>;
