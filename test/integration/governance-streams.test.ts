// Broken streams are billed for what was delivered: a client that disconnects mid-stream, and an
// upstream that cuts the stream before its usage chunk. One worker on the in-memory store (the
// embedded default), read through the admin spend endpoint; output costs 1000 micro-dollars per
// token, input is free.
import { createOpenAISimulator } from '../simulators/openai.ts';
import type { SimulatedServer } from '../simulators/recorder.ts';
import { newVirtualKey, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { admin, MODEL, pricedConfig, within } from '../helpers/governance.ts';

const PACE_MS = 20;
const WORDS = 300;
const LONG_TEXT = Array.from({ length: WORDS }, () => 'word').join(' ');
const SETTLE_WITHIN_MS = 5000;

let sim: SimulatedServer;
let gw: TestGateway;
const rootAdmin = newVirtualKey();
const streamer = newVirtualKey();
const cutter = newVirtualKey();

beforeAll(async () => {
  sim = await createOpenAISimulator({ paceMs: PACE_MS }).start();
  gw = await startTestGateway(
    `${pricedConfig(sim.url)}
virtualKeys:
  - { id: streamer, name: Streamer, hash: ${streamer.hash}, budgets: [{ window: daily, limitUsd: 10 }], guardrailPolicy: unscanned-output }
  - { id: cutter, name: Cutter, hash: ${cutter.hash}, budgets: [{ window: daily, limitUsd: 10 }] }
# Output guardrails hold back a tail of the answer (the longest match) until more text arrives;
# the disconnect case turns them off so the client sees text mid-stream. The cut case keeps them.
guardrails:
  policies:
    default: { actions: { secret: redact, pii: monitor, injection: monitor } }
    unscanned-output: { actions: { secret: redact, pii: monitor, injection: monitor }, scanOutput: false }
admins:
  - { id: root, hash: ${rootAdmin.hash}, scopes: [global] }
`,
    { env: { SIM_OPENAI_KEY: 'sk-sim' } },
  );
});

afterAll(async () => {
  await gw?.stop();
  await sim?.stop();
});

beforeEach(() => sim.reset());

interface Spend {
  budgets: { spentMicros: number; reservedMicros: number }[];
  ledger: { requests: number; micros: number; tokens: number };
}

async function spend(keyId: string): Promise<Spend> {
  const r = await admin(gw, rootAdmin.key, 'GET', `/admin/spend/key/${keyId}`);
  expect(r.status).toBe(200);
  return r.json as Spend;
}

function startStream(key: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'talk' }] }),
    ...(signal ? { signal } : {}),
  });
}

/** Reads SSE `data:` events until `stop` says so or the stream ends; returns the content seen. */
async function readEvents(res: Response, stop: (content: string) => boolean): Promise<{ content: string; ended: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let content = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { content, ended: true };
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = event.replace(/^data: /, '');
        if (data === '[DONE]') continue;
        const chunk = JSON.parse(data) as { choices?: { delta?: { content?: string } }[] };
        content += chunk.choices?.[0]?.delta?.content ?? '';
      }
      if (stop(content)) return { content, ended: false };
    }
  } catch {
    return { content, ended: false }; // the connection broke
  }
}

test('a client that disconnects mid-stream is billed for what was delivered, within 5 s', async () => {
  sim.defaultBehaviour = { text: LONG_TEXT };
  const controller = new AbortController();
  const res = await startStream(streamer.key, controller.signal);
  expect(res.status).toBe(200);
  const requestId = res.headers.get('x-sb-request-id');
  const seen = await readEvents(res, (content) => content.split(' ').length > 20);
  controller.abort();
  const abortedAt = Date.now();
  const wordsSeen = seen.content.trim().split(/\s+/).length;
  expect(seen.ended).toBe(false);

  let report: Spend | undefined;
  const took = await within(SETTLE_WITHIN_MS, async () => {
    report = await spend('streamer');
    return report.ledger.requests === 1;
  }, 'the broken stream is settled');
  const tokens = report!.ledger.tokens;
  // Billed for at least what the client saw, and not for the whole answer it never received.
  expect(report!.ledger.micros).toBeGreaterThanOrEqual(wordsSeen * 1000);
  expect(report!.ledger.micros).toBeLessThan(WORDS * 1000);
  expect(report!.budgets[0]).toMatchObject({ spentMicros: report!.ledger.micros, reservedMicros: 0 });
  expect(requestId).toBeTruthy();
  console.log(`client disconnect: saw ${wordsSeen} words, billed ${report!.ledger.micros} micro-dollars (${tokens} tokens) ${took} ms after the abort (${Date.now() - abortedAt} ms incl. reads)`);
  // The upstream was not left streaming to nobody for long.
  expect(sim.requests).toHaveLength(1);
});

test('an upstream that cuts a stream without usage is billed for the delivered text, within 5 s', async () => {
  // Chunks: role, then one per word; cut after the role chunk and 4 words: no finish, no usage.
  sim.enqueue({ text: 'alpha beta gamma delta epsilon zeta eta theta iota kappa', cutAfterChunks: 5 });
  const res = await startStream(cutter.key);
  expect(res.status).toBe(200);
  const seen = await readEvents(res, () => false);
  const endedAt = Date.now();
  // The client sees a prefix of it at most (output guardrails may hold back a tail), then a reset.
  expect('alpha beta gamma delta'.startsWith(seen.content.trim())).toBe(true);
  expect(seen.ended).toBe(false);

  let report: Spend | undefined;
  const took = await within(SETTLE_WITHIN_MS, async () => {
    report = await spend('cutter');
    return report.ledger.requests === 1;
  }, 'the cut stream is settled');
  // What was delivered, counted by the tokenizer (input is free): a handful of tokens, not zero,
  // and not the 10-token reservation.
  expect(report!.ledger.micros).toBeGreaterThanOrEqual(4 * 1000);
  expect(report!.ledger.micros).toBeLessThan(10 * 1000);
  expect(report!.budgets[0]).toMatchObject({ spentMicros: report!.ledger.micros, reservedMicros: 0 });
  console.log(`upstream cut: delivered "${seen.content.trim()}", billed ${report!.ledger.micros} micro-dollars ${took} ms after the stream ended (client saw end: ${seen.ended}, ${Date.now() - endedAt} ms)`);
});
