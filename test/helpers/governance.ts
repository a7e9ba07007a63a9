// Shared plumbing for the governance and admin integration tests: a priced model whose cost per
// request is known exactly, raw HTTP calls through the gateway and to the admin port, and
// Prometheus text parsing.
import type { TestGateway } from './gateway.ts';

/** The simulator counts one token per word: this answer is exactly 10 completion tokens. */
export const TEN_WORDS = 'one two three four five six seven eight nine ten';
export const MODEL = 'sim-priced';
/** Output at $1000 / MTok = 1000 micro-dollars per token, input free: estimate = cost = 10,000. */
export const COST_PER_REQUEST = 10_000;

export function pricedConfig(simUrl: string): string {
  return `
providers:
  openai: { type: openai, baseUrl: ${simUrl}, keys: [{ id: main, secret: { env: SIM_OPENAI_KEY } }] }
models:
  ${MODEL}: { targets: [{ provider: openai, model: ${MODEL} }] }
  other-model: { targets: [{ provider: openai, model: other-model }] }
pricing:
  overrides:
    - { provider: openai, model: ${MODEL}, inputPerMTok: 0, outputPerMTok: 1000 }
    - { provider: openai, model: other-model, inputPerMTok: 0, outputPerMTok: 1000 }
`;
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

async function reply(res: Response): Promise<Reply> {
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** One chat completion through the gateway, max_tokens 10 so the reservation is COST_PER_REQUEST. */
export async function chat(url: string, key: string, opts: { model?: string; stream?: boolean; signal?: AbortSignal } = {}): Promise<Reply> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: opts.model ?? MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'count to ten' }], ...(opts.stream ? { stream: true } : {}) }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return reply(res);
}

export function errorCode(r: Reply): string | undefined {
  return (r.json as { error?: { code?: string } } | undefined)?.error?.code;
}

export function adminUrl(gw: TestGateway): string {
  const { host, port } = gw.gw.config.server.admin;
  return `http://${host}:${port}`;
}

export async function admin(gw: TestGateway, key: string | undefined, method: string, path: string, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return reply(await fetch(`${adminUrl(gw)}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }));
}

/** Sum of every sample of `name` in Prometheus text whose labels include `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labelText = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

export async function metrics(gw: TestGateway): Promise<string> {
  const res = await fetch(`${adminUrl(gw)}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true or `timeoutMs` passes; returns the elapsed ms or throws. */
export async function within(timeoutMs: number, check: () => Promise<boolean>, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}
