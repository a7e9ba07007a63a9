// What the request pipeline needs from the rest of the service. Each port is implemented by one
// module folder (auth, routing, governance, guardrails, accounting, audit) and wired in
// extproc/runtime; tests can hand the pipeline any implementation.
import type { GatewayErrorInfo, IngressDialect, ProviderType, Usage } from '../../provider-adapters/contract.ts';
import type { AuditRecordInput } from '../audit/record.ts';

export interface Principal {
  keyId: string;
  keyName?: string;
  team?: string;
  customer?: string;
  /** Per-key fallback chain override, as targets "provider/model". */
  fallbackOverride?: { provider: string; model: string }[];
  guardrailPolicy?: string;
  /** The auth module's own record of the caller, handed back to governance untouched. */
  native?: unknown;
}

export interface AuthPort {
  authenticate(rawKey: string | undefined, now: number): Promise<{ ok: true; principal: Principal } | { ok: false; error: GatewayErrorInfo }>;
  isModelAllowed(principal: Principal, provider: string, model: string, requestedModel: string): boolean;
  /** Model names (aliases and direct) this key may request, for GET /v1/models. */
  listModels(principal: Principal): string[];
}

export interface Target {
  provider: string;
  model: string;
}

export interface RouteInput {
  model: string;
  keyId?: string;
  team?: string;
  customer?: string;
  tags: Record<string, string>;
  promptTokens: number;
  fallbackOverride?: Target[];
}

export type RouteDecision =
  | {
      ok: true;
      rule: string;
      chainId: string;
      chain: Target[];
      primary: Target;
      /** The chain without its first `skip` steps, when Envoy has a cluster for it. */
      suffix?: (skip: number) => { chainId: string; chain: Target[] } | undefined;
    }
  | { ok: false; reason: 'model_not_found' }
  /** Every step's provider has all its keys cooling down (429 / 401 from the provider). */
  | { ok: false; reason: 'keys_cooling_down'; retryAfterSeconds: number };

export interface RoutingPort {
  decide(input: RouteInput): RouteDecision;
  explain(input: RouteInput): unknown;
}

export interface AdmitRequest {
  requestId: string;
  principal: Principal;
  provider: string;
  model: string;
  estimateMicros: number;
  estimateTokens: number;
  now: number;
}

export interface GovernancePort {
  admit(req: AdmitRequest): Promise<{ ok: true; headers: Record<string, string> } | { ok: false; error: GatewayErrorInfo }>;
  settle(requestId: string, actual: { usage: Usage; costMicros: number }): Promise<void>;
  release(requestId: string): Promise<void>;
}

export interface PricingPort {
  /** Integer micro-dollars, or an error when the price is unknown and the policy rejects. */
  estimate(provider: ProviderType, providerName: string, model: string, promptTokens: number, maxOutputTokens: number): { ok: true; micros: number } | { ok: false; error: GatewayErrorInfo };
  cost(provider: ProviderType, providerName: string, model: string, usage: Usage): number;
}

export interface GuardrailFinding {
  ruleId: string;
  action: 'block' | 'redact' | 'monitor';
}

export interface StreamTextGuard {
  push(text: string): { text: string; findings: GuardrailFinding[]; blocked?: { ruleId: string } };
  flush(): { text: string; findings: GuardrailFinding[]; blocked?: { ruleId: string } };
}

export interface GuardrailsPort {
  scanRequest(dialect: IngressDialect, body: unknown, policy?: string): Promise<{ action: 'allow' | 'redact' | 'block'; blockedBy?: { ruleId: string; policy: string }; findings: GuardrailFinding[]; body?: unknown }>;
  createStreamGuard(policy?: string): StreamTextGuard | null;
  /** Output scan of a whole (JSON) answer's text. */
  scanText(text: string, policy?: string): { text: string; findings: GuardrailFinding[]; blocked?: { ruleId: string } };
}

export interface KeyPoolPort {
  pick(provider: string, now: number): { exhausted: false; keyId: string } | { exhausted: true; until: number };
  report(provider: string, keyId: string, outcome: { status: number; retryAfterSeconds?: number; now: number }): void;
}

export interface CredentialsPort {
  /** API key for openai-style providers, or AWS credentials for bedrock. */
  apiKey(provider: string, keyId: string): string;
  aws(provider: string, keyId: string): { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

// The audit module owns the record's shape; the pipeline hands one in per request.
export type { AuditAttempt as AttemptRecord, AuditRecordInput } from '../audit/record.ts';

export interface AuditPort {
  append(record: AuditRecordInput): Promise<void>;
  /** undefined while the sink has room; else resolves once it has (backpressure on new requests). */
  room(): Promise<void> | undefined;
}

export interface Clock {
  now(): number;
}
