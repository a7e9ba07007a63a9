// What the router-level filter learns about a request and the upstream filter needs per attempt.
// Held in process memory, keyed by Envoy's x-request-id; each chain cluster's upstream filter is
// pinned to the process that made the decision (per-worker clusters), so lookups hit.
import type { IngressDialect, Usage } from '../../provider-adapters/contract.ts';
import type { AttemptRecord, GuardrailFinding, Principal, Target } from './ports.ts';
import type { PreparedStep } from './prepared-fallbacks.ts';

export interface RequestContext {
  requestId: string;
  startedAt: number;
  dialect: IngressDialect;
  pathModel?: string;
  stream: boolean;
  /** The client asked for usage in the stream (OpenAI stream_options.include_usage). */
  clientWantsUsage: boolean;
  /** Canonical request and the raw parsed body, from the adapters. */
  request: unknown;
  raw: unknown;
  requestedModel: string;
  promptTokens: number;
  principal: Principal;
  rule: string;
  chain: Target[];
  attempts: AttemptRecord[];
  /** Headers the previous attempt set upstream; Envoy reuses one header map for every retry. */
  headersSetUpstream: string[];
  droppedParams: string[];
  /** Fallback steps prepared up front for Envoy to apply without asking, by target. */
  preparedSteps?: Map<string, PreparedStep>;
  findings: GuardrailFinding[];
  governanceHeaders: Record<string, string>;
  reserved: boolean;
  settled: boolean;
  usage?: Usage;
}

export class ContextRegistry {
  private readonly byId = new Map<string, RequestContext>();

  put(ctx: RequestContext): void {
    this.byId.set(ctx.requestId, ctx);
  }

  get(requestId: string): RequestContext | undefined {
    return this.byId.get(requestId);
  }

  delete(requestId: string): void {
    this.byId.delete(requestId);
  }

  get size(): number {
    return this.byId.size;
  }
}
