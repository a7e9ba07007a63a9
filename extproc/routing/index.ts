// Public surface of the routing module: config schema, the decision, chains for Envoy, and the
// live inputs (target health, provider key pools, prompt-token estimates).
export {
  DEFAULT_RETRY_ON,
  MODEL_RULE_PREFIX,
  RETRY_CONDITIONS,
  matchSchema,
  modelEntrySchema,
  modelsSchema,
  promptTokensSchema,
  routerConfigSchema,
  routingSchema,
  ruleSchema,
  targetSchema,
  timeWindowSchema,
  weightedTargetSchema,
} from './schema.ts';
export type {
  MatchConfig,
  ModelEntryConfig,
  ModelsConfig,
  RetryCondition,
  RetryOn,
  RouterConfig,
  RoutingConfig,
  RuleConfig,
  TargetConfig,
  TimeWindowConfig,
  WeightedTargetConfig,
} from './schema.ts';
export type { Target } from './target.ts';
export { targetKey, sameTarget } from './target.ts';
export type { Clock, Random } from './deps.ts';
export type { RouteInput } from './route-input.ts';
export { createRouter } from './router.ts';
export type {
  CandidateExplanation,
  RouteDecision,
  RouteExplanation,
  RouteMiss,
  Router,
  RouterDeps,
  RuleExplanation,
} from './router.ts';
export type { CriterionCheck, Criterion } from './match.ts';
export { CHAIN_HEADER, chainId, chainSubsequence, chainSuffix, chainVariants } from './chains.ts';
export type { ChainSpec } from './chains.ts';
export type { RetryPolicy } from './retry-policy.ts';
export { listChains } from './list-chains.ts';
export type { KeyChainOverride } from './list-chains.ts';
export { DEFAULT_HEALTH_OPTIONS, HealthTracker, isTargetFailure } from './health.ts';
export type { HealthObservation, HealthOptions, HealthSource, TargetHealth } from './health.ts';
export { DEFAULT_KEY_POOL_OPTIONS, KeyPool } from './key-pool.ts';
export type { CooldownReason, KeyCooldown, KeyPick, KeyPoolOptions, KeyReport, PoolKey } from './key-pool.ts';
export { TAGS_HEADER, collectTags, parseTagsHeader, tagsFromBodyMetadata } from './tags.ts';
export {
  DEFAULT_EXACT_LIMIT_CHARS,
  estimateTokensByChars,
  loadTokenEstimator,
  promptTextOf,
  routingNeedsPromptTokens,
} from './token-estimate.ts';
export type { TokenEstimate, TokenEstimator } from './token-estimate.ts';
export { checkTimeWindow, localTime, WEEKDAYS } from './time-window.ts';
export type { TimeWindow, Weekday } from './time-window.ts';
export { pickWeighted } from './weighted-pick.ts';
export { globMatch } from './glob.ts';
