// The external moderation hook: real HTTP through undici's fetch.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetch as undiciFetch } from 'undici';
import { createGuardrails } from '../../../extproc/guardrails/index.ts';
import type { ExternalHookFailure, FetchLike, GuardrailsConfigInput } from '../../../extproc/guardrails/index.ts';

const fetchImpl = undiciFetch as unknown as FetchLike;
const chat = (content: string) => ({ model: 'm', messages: [{ role: 'user', content }] });

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

function config(url: string, extra: { failOpen?: boolean } = {}): GuardrailsConfigInput {
  return {
    externalHooks: { moderation: { url, timeoutMs: 500, ...extra } },
    policies: { default: { actions: { secret: 'redact' }, externalHooks: ['moderation'] } },
  };
}

describe('external guardrail hook', () => {
  test('closed port: blocks by default (fail closed) and reports the failure', async () => {
    const port = await closedPort();
    const failures: ExternalHookFailure[] = [];
    const g = createGuardrails(config(`http://127.0.0.1:${port}/moderate`), { fetch: fetchImpl, onExternalFailure: (f) => failures.push(f) });
    const r = await g.scanRequest('openai-chat', chat('hello'));
    expect(r.action).toBe('block');
    expect(r.blockedBy).toEqual({ ruleId: 'external:moderation', policy: 'default' });
    expect(r.externalFailures).toEqual([{ hook: 'moderation', reason: 'unreachable', blocked: true }]);
    expect(failures).toEqual(r.externalFailures);
  });

  test('failOpen: the request goes on, the failure is still reported', async () => {
    const port = await closedPort();
    const g = createGuardrails(config(`http://127.0.0.1:${port}/`, { failOpen: true }), { fetch: fetchImpl });
    const r = await g.scanRequest('openai-chat', chat('hello'));
    expect(r.action).toBe('allow');
    expect(r.externalFailures).toHaveLength(1);
  });

  test('a live service: flagged blocks, clean allows, and it only ever sees redacted text; slow answers time out', async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(body);
        const texts = (JSON.parse(body) as { texts: string[] }).texts;
        if (texts.some((t) => t.includes('slow'))) {
          setTimeout(() => res.end('{"flagged":false}'), 1500);
          return;
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ flagged: texts.some((t) => t.includes('violence')), categories: ['violence'] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const g = createGuardrails(config(url), { fetch: fetchImpl });
      expect((await g.scanRequest('openai-chat', chat('plain violence'))).blockedBy?.ruleId).toBe('external:moderation');
      const clean = await g.scanRequest('openai-chat', chat('key AKIAQ2X7EXAMPLE4KEYZ here'));
      expect(clean.action).toBe('redact');
      expect(seen.join('')).not.toContain('AKIAQ2X7EXAMPLE4KEYZ');
      const slow = await g.scanRequest('openai-chat', chat('slow please'));
      expect(slow.action).toBe('block');
      expect(slow.externalFailures[0]!.reason).toBe('timeout');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
