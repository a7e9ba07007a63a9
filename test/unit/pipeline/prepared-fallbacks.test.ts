// Fallbacks prepared with attempt 1 for Envoy's Lua filter, and the attempt history rebuilt from
// what Envoy reports once a response arrives.
import * as adapters from '../../../provider-adapters/index.ts';
import { prepareFallbacks, reconcileAttempts, type PreparedFallbackLimits } from '../../../extproc/pipeline/prepared-fallbacks.ts';
import { prepareAttempt, type AttemptDeps } from '../../../extproc/pipeline/attempt.ts';
import type { RequestContext } from '../../../extproc/pipeline/request-context.ts';
import { providersSchema, type ProviderConfig } from '../../../extproc/config/providers-schema.ts';
import { KeyPool } from '../../../extproc/routing/key-pool.ts';
import { FALLBACK_NAMESPACE } from '../../../envoy/prepared-fallback-filters.ts';
import type { ProtoValue } from '../../../extproc/server/messages.ts';

const providers: Record<string, ProviderConfig> = providersSchema.parse({
  alpha: { type: 'openai', baseUrl: 'https://alpha.example/v1', keys: [{ id: 'a1', secret: { env: 'A1' } }, { id: 'a2', secret: { env: 'A2' } }] },
  beta: { type: 'anthropic', baseUrl: 'https://beta.example', keys: [{ id: 'b1', secret: { env: 'B1' } }] },
  gamma: { type: 'openai', baseUrl: 'https://gamma.example/v1', keys: [{ id: 'g1', secret: { env: 'G1' } }] },
  rock: { type: 'bedrock', region: 'us-east-1', keys: [{ id: 'r1', accessKeyId: { env: 'R_ID' }, secretAccessKey: { env: 'R_SECRET' } }] },
});

function deps(draws: number[] = []): AttemptDeps {
  let i = 0;
  const pools = new KeyPool(
    Object.fromEntries(Object.entries(providers).map(([name, p]) => [name, p.keys.map((k) => ({ id: k.id }))])),
    { random: () => draws[i++ % Math.max(1, draws.length)] ?? 0 },
  );
  return {
    providers: () => providers,
    keyPools: () => pools,
    credentials: {
      apiKey: (p, k) => `sk-${p}-${k}`,
      aws: () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }),
    },
  };
}

function context(chain: string[]): RequestContext {
  const parsed = adapters.parseIngress('openai-chat', new TextEncoder().encode(JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'héllo' }], max_tokens: 50 })));
  if (!parsed.ok) throw new Error('fixture');
  return {
    requestId: 'r1', startedAt: 0, dialect: 'openai-chat', stream: false, clientWantsUsage: false,
    request: parsed.request, raw: parsed.raw, requestedModel: 'chat', promptTokens: 5,
    principal: { keyId: 'k' }, rule: 'test',
    chain: chain.map((t) => ({ provider: t.split('/')[0]!, model: t.split('/')[1]! })),
    attempts: [], headersSetUpstream: [], droppedParams: [], findings: [], governanceHeaders: {}, reserved: true, settled: false,
  };
}

const limits: PreparedFallbackLimits = { steps: 2, maxBodyBytes: 1 << 20, signedRequests: true };

async function prepare(chain: string[], l = limits, d = deps()) {
  const ctx = context(chain);
  const first = await prepareAttempt(d, ctx, chain[0]!, 0, []);
  if (!first.ok) throw new Error('first');
  const out = await prepareFallbacks(d, ctx, { provider: ctx.attempts[0]!.provider, keyId: first.keyId, set: first.set }, 0, l);
  return { ctx, first, out };
}

type Entry = { body: string; set: Record<string, string>; remove: string[] };
function entries(md: { fields?: Record<string, ProtoValue> } | undefined): Record<string, Entry> {
  const plain = (v: ProtoValue): unknown =>
    v.structValue ? Object.fromEntries(Object.entries(v.structValue.fields ?? {}).map(([k, x]) => [k, plain(x)])) : v.listValue ? (v.listValue.values ?? []).map(plain) : (v.stringValue ?? v.numberValue ?? v.boolValue);
  return plain(md!.fields![FALLBACK_NAMESPACE]!) as Record<string, Entry>;
}

describe('prepareFallbacks', () => {
  test("each later step gets its provider's wire format, credentials and path, keyed by its step", async () => {
    const { out } = await prepare(['alpha/gpt-4o-mini', 'beta/claude-sonnet-4-5', 'gamma/gpt-4o']);
    const e = entries(out.metadata);
    expect(Object.keys(e)).toEqual(['1', '2']);
    expect(e['1']!.set[':path']).toBe('/v1/messages');
    expect(e['1']!.set[':authority']).toBe('beta.example');
    expect(e['1']!.set['x-api-key']).toBe('sk-beta-b1');
    expect(JSON.parse(e['1']!.body)).toMatchObject({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user' }] });
    // Byte length, not string length: the body carries a non-ASCII character.
    expect(e['1']!.set['content-length']).toBe(String(Buffer.byteLength(e['1']!.body)));
    expect(e['2']!.set.authorization).toBe('Bearer sk-gamma-g1');
    expect(JSON.parse(e['2']!.body).model).toBe('gpt-4o');
  });

  test("each step removes the headers any other attempt set, never its own", async () => {
    const { out } = await prepare(['alpha/gpt-4o-mini', 'beta/claude-sonnet-4-5', 'gamma/gpt-4o']);
    const e = entries(out.metadata);
    expect(e['1']!.remove).toContain('authorization');
    expect(e['1']!.remove).not.toContain('x-api-key');
    expect(e['2']!.remove).toEqual(expect.arrayContaining(['x-api-key', 'anthropic-version']));
    expect(e['2']!.remove).not.toContain('authorization');
    expect(out.headerNames).toEqual(expect.arrayContaining(['authorization', 'x-api-key', 'anthropic-version', 'content-type']));
  });

  test('a later step of the same provider prefers a key attempt 1 does not hold', async () => {
    // Draws 0 -> the first key for both; the second step must re-draw and land on a2.
    const d = deps([0, 0, 0.9]);
    const { first, out } = await prepare(['alpha/gpt-4o-mini', 'alpha/gpt-4o'], limits, d);
    expect(first.keyId).toBe('a1');
    expect(out.candidates).toEqual([{ provider: 'alpha', model: 'gpt-4o', keyId: 'a2' }]);
  });

  test('limits: the step count, the body size, signed requests; nothing prepared -> no metadata', async () => {
    expect(Object.keys(entries((await prepare(['alpha/a', 'beta/b', 'gamma/c'], { ...limits, steps: 1 })).out.metadata))).toEqual(['1']);
    const none = (await prepare(['alpha/a', 'beta/b'], { ...limits, maxBodyBytes: 10 })).out;
    expect(none.metadata).toBeUndefined();
    expect(none.candidates).toEqual([]);
    expect((await prepare(['alpha/a', 'rock/anthropic.claude-sonnet-4-5'], { ...limits, signedRequests: false })).out.metadata).toBeUndefined();
    const signed = entries((await prepare(['alpha/a', 'rock/anthropic.claude-sonnet-4-5'])).out.metadata);
    expect(signed['1']!.set.authorization).toMatch(/^AWS4-HMAC-SHA256 /);
  });

  test('a step whose keys all cool down is left to the upstream filter', async () => {
    const d = deps();
    d.keyPools().report('beta', 'b1', { status: 429, retryAfterSeconds: 30, now: 0 });
    const { out } = await prepare(['alpha/a', 'beta/b', 'gamma/c'], limits, d);
    expect(Object.keys(entries(out.metadata))).toEqual(['2']);
  });

  test('nothing in the context changes but what the router records itself', async () => {
    const { ctx } = await prepare(['alpha/gpt-4o-mini', 'beta/claude-sonnet-4-5']);
    expect(ctx.attempts).toEqual([{ provider: 'alpha', model: 'gpt-4o-mini', keyId: expect.any(String) }]);
  });
});

describe('reconcileAttempts', () => {
  async function prepared(chain: string[]) {
    const { ctx, out } = await prepare(chain);
    ctx.preparedSteps = out.steps;
    return ctx;
  }
  const listed = (ctx: RequestContext) => ctx.attempts.map((a) => `${a.provider}/${a.model}`);

  test('the prepared step that answered is added, with the ones Envoy tried in between', async () => {
    const ctx = await prepared(['alpha/a', 'beta/b', 'gamma/c']);
    reconcileAttempts(ctx, 'gamma/c', 3);
    expect(listed(ctx)).toEqual(['alpha/a', 'beta/b', 'gamma/c']);
    expect(ctx.attempts[2]!.keyId).toBe('g1');
  });

  test('a fallback that skipped a step lists only the attempts Envoy counted', async () => {
    const ctx = await prepared(['alpha/a', 'beta/b', 'gamma/c']);
    reconcileAttempts(ctx, 'gamma/c', 2);
    expect(listed(ctx)).toEqual(['alpha/a', 'gamma/c']);
  });

  test('an attempt the upstream filter recorded keeps its place in chain order', async () => {
    const ctx = await prepared(['alpha/a', 'beta/b', 'gamma/c']);
    ctx.attempts.push({ provider: 'gamma', model: 'c', keyId: 'g1' }); // translated by the upstream filter
    reconcileAttempts(ctx, 'gamma/c', 3);
    expect(listed(ctx)).toEqual(['alpha/a', 'beta/b', 'gamma/c']);
  });

  test('attempt 1 sent to a later step (the first was ejected): one attempt', async () => {
    const ctx = await prepared(['alpha/a', 'beta/b']);
    reconcileAttempts(ctx, 'beta/b', 1);
    expect(listed(ctx)).toEqual(['beta/b']);
  });

  test('no change when nothing was prepared or the first attempt answered', async () => {
    const ctx = await prepared(['alpha/a', 'beta/b']);
    reconcileAttempts(ctx, 'alpha/a', 1);
    expect(listed(ctx)).toEqual(['alpha/a']);
  });
});
