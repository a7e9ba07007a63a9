// Public surface of the guardrails module.
export { createGuardrails } from './guardrails.ts';
export type { Guardrails, GuardrailsDeps, ScanRequestResult, ExternalHookFailure } from './guardrails.ts';
export type { StreamScanner, StreamStep } from './stream.ts';
export type { Finding, GuardrailAction, RuleFamily, Evasion } from './types.ts';
export type { FetchLike, FetchLikeResponse } from './external-hook.ts';
export { guardrailsConfigSchema } from './schema.ts';
export type { GuardrailsConfig, GuardrailsConfigInput } from './schema.ts';
export { extractText, writeBack } from './extract.ts';
export type { TextPart, JsonPath } from './extract.ts';
export { createTextScanner } from './scanner.ts';
export type { TextScanner } from './scanner.ts';
export { BUILTIN_RULES } from './policy.ts';
