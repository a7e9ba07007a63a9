// Builds one worker's services from gateway.yaml and swaps them on reload. The filters read the
// current snapshot through getters, so a reload applies to the next request and never to one
// already in flight (it keeps the objects it started with).
import path from 'node:path';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.ts';
import { resolveCredentials, type ResolvedCredentials } from '../config/credentials.ts';
import { chainSubsequence, chainSuffix, createRouter, HealthTracker, KeyPool, listChains, type ChainSpec } from '../routing/index.ts';
import { Authenticator } from '../auth/authenticate.ts';
import { CombinedKeyLookup, ConfigKeyLookup, DynamicKeyStore } from '../auth/key-store.ts';
import { keyHashSecretFromEnv } from '../auth/virtual-key.ts';
import { Governance } from '../governance/governance.ts';
import { AdminService } from '../governance/admin.ts';
import { StoreDirectory } from '../governance/directory.ts';
import { createStateStore } from '../governance/create-store.ts';
import { createGovernanceMetrics } from '../governance/metrics.ts';
import { isAllowed, resolvePolicy } from '../governance/policy.ts';
import type { StateStore } from '../governance/store.ts';
import { Pricing, PriceUnknownError } from '../accounting/pricing.ts';
import type { Principal as AuthPrincipal } from '../auth/key-record.ts';
import type { ResolvedPolicy } from '../governance/policy.ts';
import { ContextRegistry } from '../pipeline/request-context.ts';
import * as adapters from '../../provider-adapters/index.ts';
import { startOverloadGuard, type OverloadGuard } from './overload.ts';
import { AfterResponse } from '../pipeline/after-response.ts';
import { AttemptJournal, type AttemptOutcome, type LoggedAttempt } from '../pipeline/attempt-log.ts';
import type { PreparedFallbackLimits } from '../pipeline/prepared-fallbacks.ts';
import type { AuditPort, AuthPort, Clock, GovernancePort, GuardrailsPort, PricingPort, Principal, RoutingPort } from '../pipeline/ports.ts';
import { RouterFilter } from '../pipeline/router-filter.ts';
import { UpstreamFilter } from '../pipeline/upstream-filter.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import type { FilterRole } from '../server/grpc-server.ts';
import type { StreamHandler } from '../server/processing-stream.ts';
import { gatewayErrors } from '../errors/gateway-errors.ts';

export interface RuntimeDeps {
  workerIndex: number;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  guardrailsFor(config: GatewayConfig): GuardrailsPort;
  audit: AuditPort;
}

interface Snapshot {
  config: GatewayConfig;
  routing: RoutingPort;
  keyPools: KeyPool;
  credentials: ResolvedCredentials;
  guardrails: GuardrailsPort;
  chainIds: Set<string>;
  /** Pool layout the key pool was built from; an unchanged layout keeps its cooldowns on reload. */
  poolLayout: string;
  preparedFallbacks: PreparedFallbackLimits;
}

interface AuthedPrincipal extends Principal {
  native: AuthPrincipal;
  policy: ResolvedPolicy;
}

function splitTarget(t: string): { provider: string; model: string } {
  const i = t.indexOf('/');
  return { provider: t.slice(0, i), model: t.slice(i + 1) };
}

export class Runtime {
  readonly registry = new ContextRegistry();
  readonly health = new HealthTracker();
  readonly journal = new AttemptJournal();
  readonly afterResponse: AfterResponse;
  private snapshot: Snapshot;
  private readonly store: StateStore;
  private readonly governance: Governance;
  private readonly directory: StoreDirectory;
  private readonly authenticator: Authenticator;
  private readonly dynamicKeys: DynamicKeyStore;
  private readonly pricing: Pricing;
  private readonly deps: RuntimeDeps;

  static async create(config: GatewayConfig, deps: RuntimeDeps): Promise<Runtime> {
    const state = config.state.type === 'memory' && config.state.dir && !path.isAbsolute(config.state.dir) ? { ...config.state, dir: path.resolve(config.state.dir) } : config.state;
    const { store, close } = await createStateStore(state, { clock: deps.clock, logger: deps.log });
    return new Runtime(config, deps, store, close);
  }

  private readonly closeStore: () => Promise<void>;
  private readonly overload: OverloadGuard;
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(config: GatewayConfig, deps: RuntimeDeps, store: StateStore, closeStore: () => Promise<void>) {
    this.deps = deps;
    this.afterResponse = new AfterResponse((err) => deps.log.error({ err }, 'settling or auditing a finished request failed'));
    const clock = deps.clock;
    const state = config.state;
    this.store = store;
    this.closeStore = closeStore;
    this.overload = startOverloadGuard(config.server.shedLoadAtEventLoopDelayMs);
    const govMetrics = createGovernanceMetrics(deps.metrics.registry);
    this.directory = new StoreDirectory({ config: () => this.snapshot.config, store: this.store, clock });
    this.governance = new Governance({
      store: this.store,
      directory: this.directory,
      logger: deps.log,
      metrics: govMetrics,
      timeZone: () => this.snapshot.config.budgetTimeZone,
      replicas: state.type === 'redis' ? state.replicas : 1,
      reservationTtlMs: state.reservationTtlMs,
      clock,
    });
    this.dynamicKeys = new DynamicKeyStore({ store: this.store, clock });
    this.authenticator = new Authenticator({
      keys: new CombinedKeyLookup(new ConfigKeyLookup(() => this.snapshot.config.virtualKeys), this.dynamicKeys),
      secret: keyHashSecretFromEnv(deps.env),
    });
    this.pricing = new Pricing({ config: config.pricing, logger: deps.log, metrics: govMetrics });
    this.snapshot = this.build(config);
    // Settles the store could not take are retried; reservations of requests that vanished expire.
    const flush = setInterval(() => void this.governance.flushDeferred().catch((err: unknown) => deps.log.warn({ err }, 'deferred settle retry failed')), 1000);
    const sweep = setInterval(() => void this.governance.sweep().catch((err: unknown) => deps.log.warn({ err }, 'reservation sweep failed')), 5000);
    flush.unref();
    sweep.unref();
    this.timers.push(flush, sweep);
  }

  get config(): GatewayConfig {
    return this.snapshot.config;
  }

  /**
   * The admin API's service over this worker's store, directory and key cache (shared with the
   * authenticator, so a revocation through this worker applies to it at once).
   */
  createAdminService(): AdminService {
    return new AdminService({ config: () => this.snapshot.config, store: this.store, keys: this.dynamicKeys, directory: this.directory, secret: keyHashSecretFromEnv(this.deps.env), clock: this.deps.clock });
  }

  /** Applies a validated config; in-flight requests keep the snapshot they started with. */
  reload(config: GatewayConfig): void {
    this.snapshot = this.build(config);
    this.deps.log.info({ chains: this.snapshot.chainIds.size }, 'configuration applied');
  }

  private build(config: GatewayConfig): Snapshot {
    const chains = listChains({ routing: config.routing, models: config.models }, config.virtualKeys.filter((k) => k.fallbackChain?.length).map((k) => ({ keyId: k.id, fallbacks: (k.fallbackChain ?? []).map(splitTarget) })));
    const chainIds = new Set(chains.map((c) => c.id));
    const router = createRouter({ routing: config.routing, models: config.models }, { clock: this.deps.clock, random: Math.random, health: this.health, isProvisioned: (id) => chainIds.has(id) });
    const pools: Record<string, { id: string; weight: number }[]> = {};
    for (const [name, p] of Object.entries(config.providers)) if (p.keys.length) pools[name] = p.keys.map((k) => ({ id: k.id, weight: k.weight }));
    const poolLayout = JSON.stringify(pools);
    const previous = this.snapshot as Snapshot | undefined;
    const keyPools = previous && previous.poolLayout === poolLayout ? previous.keyPools : new KeyPool(pools, { random: Math.random });
    const credentials = resolveCredentials(config.providers, this.deps.env);
    if (credentials.missing.length) this.deps.log.warn({ missing: credentials.missing }, 'provider keys not configured; requests routed to them will fail over');
    return {
      config,
      routing: {
        decide: (input) => {
          const d = router.decide(input);
          if (!d.ok) return d;
          const spec = { id: d.chainId, targets: d.chain, retry: d.retry, ...(d.contextLengthStep !== undefined ? { contextLengthStep: d.contextLengthStep } : {}) };
          // The chain's provisioned suffixes: what the router filter starts from when step 0 cannot be prepared.
          const suffixesOf = (chain: ChainSpec) => (skip: number) => {
            const s = chainSuffix(chain, skip);
            return s && chainIds.has(s.id) ? { chainId: s.id, chain: s.targets } : undefined;
          };
          const suffix = suffixesOf(spec);
          // Leave out every step whose provider has all keys cooling down: Envoy would send it an
          // attempt that can only fail, and cannot retry past an upstream filter's local reply.
          const now = this.deps.clock.now();
          let soonest = Infinity;
          const keep: number[] = [];
          for (let i = 0; i < d.chain.length; i++) {
            const at = keyPools.availableAt(d.chain[i]!.provider, now);
            if (at === 0) keep.push(i);
            else soonest = Math.min(soonest, at);
          }
          if (keep.length === d.chain.length) return { ...d, suffix };
          if (keep.length > 0) {
            const sub = chainSubsequence(spec, keep);
            const use = sub && chainIds.has(sub.id) ? sub : chainSuffix(spec, keep[0]!);
            if (use && chainIds.has(use.id)) {
              return { ...d, chainId: use.id, chain: use.targets, primary: use.targets[0]!, ...(use.contextLengthStep !== undefined ? { contextLengthStep: use.contextLengthStep } : {}), suffix: suffixesOf(use) };
            }
            return { ...d, suffix };
          }
          return { ok: false, reason: 'keys_cooling_down', retryAfterSeconds: Math.max(1, Math.ceil((soonest - now) / 1000)) };
        },
        explain: (input) => router.explain(input),
      },
      keyPools,
      poolLayout,
      // SigV4 signatures are refused once their timestamp is 15 minutes old.
      preparedFallbacks: { ...config.server.preparedFallbacks, signedRequests: config.server.requestTimeoutMs <= 10 * 60_000 },
      credentials,
      guardrails: this.deps.guardrailsFor(config),
      chainIds,
    };
  }

  private readonly auth: AuthPort = {
    authenticate: async (rawKey, now) => {
      const r = await this.authenticator.authenticate(rawKey, now);
      if (!r.ok) return { ok: false, error: r.error };
      const resolution = await resolvePolicy(r.principal.key, this.directory);
      if (!resolution.ok) return { ok: false, error: gatewayErrors.unavailable(`This key's access policy is misconfigured: ${resolution.problem}.`) };
      const policy = resolution.policy;
      const principal: AuthedPrincipal = {
        keyId: r.principal.keyId,
        keyName: r.principal.keyName,
        team: r.principal.teamId,
        customer: r.principal.customerId,
        guardrailPolicy: policy.guardrailPolicy,
        fallbackOverride: policy.fallbackChain?.map(splitTarget),
        native: r.principal,
        policy,
      };
      return { ok: true, principal };
    },
    isModelAllowed: (principal, provider, model, requestedModel) => {
      const policy = (principal as AuthedPrincipal).policy;
      const type = this.snapshot.config.providers[provider]?.type;
      const names = [provider, ...(type ? [type] : [])];
      // A key allowed to request an alias may use the models the alias routes to.
      return isAllowed(policy, names, requestedModel).ok || isAllowed(policy, names, model).ok;
    },
    listModels: (principal) => {
      const policy = (principal as AuthedPrincipal).policy;
      const cfg = this.snapshot.config;
      return Object.keys(cfg.models ?? {}).filter((alias) => (cfg.models?.[alias]?.targets ?? []).some((t) => isAllowed(policy, [t.provider, cfg.providers[t.provider]?.type ?? ''], alias).ok || isAllowed(policy, [t.provider], t.model).ok));
    },
  };

  private readonly governancePort: GovernancePort = {
    admit: async (req) => {
      const provider = this.snapshot.config.providers[req.provider];
      const r = await this.governance.admit({ ...req, principal: req.principal.native as AuthPrincipal, provider: { name: req.provider, type: provider?.type ?? req.provider } });
      return r.ok ? { ok: true, headers: r.headers } : r;
    },
    settle: (requestId, actual) => this.governance.settle(requestId, actual),
    release: (requestId) => this.governance.release(requestId),
  };

  private readonly pricingPort: PricingPort = {
    estimate: (type, name, model, promptTokens, maxOut) => {
      try {
        return { ok: true, micros: this.pricing.estimate({ type, name }, model, promptTokens, maxOut).micros };
      } catch (err) {
        if (err instanceof PriceUnknownError) return { ok: false, error: gatewayErrors.unavailable(`No price is known for ${name}/${model}, and the pricing policy rejects unpriced models.`) };
        throw err;
      }
    },
    cost: (type, name, model, usage) => {
      try {
        return this.pricing.cost({ type, name }, model, usage).micros;
      } catch (err) {
        if (err instanceof PriceUnknownError) return 0;
        throw err;
      }
    },
  };

  createStreamHandler(role: FilterRole): StreamHandler {
    const snap = () => this.snapshot;
    if (role === 'upstream') {
      return new UpstreamFilter({
        registry: this.registry,
        providers: () => snap().config.providers,
        keyPools: () => snap().keyPools,
        credentials: { apiKey: (p, k) => snap().credentials.apiKey(p, k), aws: (p, k) => snap().credentials.aws(p, k) },
        clock: this.deps.clock,
        log: this.deps.log,
        journal: this.journal,
        onContextMiss: () => this.deps.metrics.rejections.inc({ code: 'context_miss' }),
      });
    }
    return new RouterFilter({
      workerIndex: this.deps.workerIndex,
      registry: this.registry,
      providers: () => snap().config.providers,
      auth: this.auth,
      routing: () => snap().routing,
      governance: this.governancePort,
      pricing: this.pricingPort,
      guardrails: () => snap().guardrails,
      audit: this.deps.audit,
      clock: this.deps.clock,
      log: this.deps.log,
      metrics: this.deps.metrics,
      defaultMaxOutputTokens: 4096,
      scrubSecrets: (body) => snap().credentials.scrub(body),
      overloaded: () => this.overload.overloaded(),
      attempts: {
        providers: () => snap().config.providers,
        keyPools: () => snap().keyPools,
        credentials: { apiKey: (p, k) => snap().credentials.apiKey(p, k), aws: (p, k) => snap().credentials.aws(p, k) },
      },
      journal: this.journal,
      pretranslate: this.snapshot.config.server.upstreamAffinity,
      preparedFallbacks: () => snap().preparedFallbacks,
      afterResponse: this.afterResponse,
    });
  }

  /**
   * Runs the request path's one-time costs (price catalogue lookups, guardrail rule compilation,
   * JIT of the adapters) before the worker takes traffic, so the first requests do not stall
   * behind them and hit Envoy's message timeout.
   */
  async warmUp(): Promise<void> {
    const cfg = this.snapshot.config;
    const seen = new Set<string>();
    for (const alias of Object.values(cfg.models ?? {})) {
      for (const t of [...alias.targets, ...(alias.fallbacks ?? [])]) {
        const p = cfg.providers[t.provider];
        if (!p || seen.has(`${t.provider}/${t.model}`)) continue;
        seen.add(`${t.provider}/${t.model}`);
        this.pricingPort.estimate(p.type, t.provider, t.model, 100, 100);
      }
    }
    const body = { model: 'warm-up', messages: [{ role: 'user', content: 'Warm-up text with an e-mail jane@example.com and nothing secret.' }] };
    await this.snapshot.guardrails.scanRequest('openai-chat', body);
    const guard = this.snapshot.guardrails.createStreamGuard();
    guard?.push('warm-up output');
    guard?.flush();
    const parsed = adapters.parseIngress('openai-chat', new TextEncoder().encode(JSON.stringify(body)));
    if (parsed.ok) adapters.estimateInputTokens(parsed.request);
  }

  /** Joins logged attempts with this process's journal; returns the ones another process made. */
  observeLogged(logged: LoggedAttempt[]): LoggedAttempt[] {
    const foreign: LoggedAttempt[] = [];
    for (const l of logged) {
      const outcome = this.journal.resolve(l);
      if (outcome) this.observeAttempt(outcome);
      else foreign.push(l);
    }
    this.journal.sweep(this.deps.clock.now());
    return foreign;
  }

  /** One upstream attempt's outcome. */
  observeAttempt(a: AttemptOutcome): void {
    const now = this.deps.clock.now();
    const snap = this.snapshot;
    if (a.keyId && snap.config.providers[a.provider]?.keys.some((k) => k.id === a.keyId)) {
      snap.keyPools.report(a.provider, a.keyId, { status: a.status, ...(a.retryAfterSeconds !== undefined ? { retryAfterSeconds: a.retryAfterSeconds } : {}), now });
    }
    this.health.observe({ provider: a.provider, model: a.model }, { latencyMs: a.latencyMs ?? 0, status: a.status, now });
    this.deps.metrics.attempts.inc({ provider: a.provider, model: a.model, status: String(a.status) });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.overload.stop();
    await this.governance.flushDeferred().catch(() => undefined);
    await this.closeStore();
  }
}
