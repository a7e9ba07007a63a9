// Output scanning across chunk boundaries.
import { createGuardrails } from '../../../extproc/guardrails/index.ts';
import type { StreamScanner } from '../../../extproc/guardrails/index.ts';

const KEY = 'AKIAQ2X7EXAMPLE4KEYZ';
const PEM = `-----BEGIN PRIVATE KEY-----\n${'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'.repeat(4)}\n-----END PRIVATE KEY-----`;
const redacting = createGuardrails({ policies: { default: { actions: { secret: 'redact' } } } });
const blocking = createGuardrails({ policies: { default: { actions: { secret: 'block' } } } });

function run(scanner: StreamScanner, chunks: string[]): { text: string; findings: string[]; blocked?: string } {
  let text = '';
  const findings: string[] = [];
  let blocked: string | undefined;
  for (const c of chunks) {
    const r = scanner.push(c);
    text += r.text;
    findings.push(...r.findings.map((f) => f.ruleId));
    blocked ??= r.blocked?.ruleId;
  }
  const r = scanner.flush();
  text += r.text;
  findings.push(...r.findings.map((f) => f.ruleId));
  blocked ??= r.blocked?.ruleId;
  return { text, findings, blocked };
}

describe('stream scanner', () => {
  const answer = `Sure. Use the key ${KEY} for the deploy, and keep it safe.`;

  test('a secret split at every possible boundary (two chunks) is redacted, never leaked', () => {
    for (let cut = 0; cut <= answer.length; cut++) {
      const out = run(redacting.createStreamScanner(), [answer.slice(0, cut), answer.slice(cut)]);
      expect(out.text).toBe(answer.replace(KEY, '[REDACTED:aws_access_key]'));
      expect(out.findings).toEqual(['aws_access_key']);
    }
  });

  test('one character per chunk', () => {
    const out = run(redacting.createStreamScanner(), [...answer]);
    expect(out.text).toBe(answer.replace(KEY, '[REDACTED:aws_access_key]'));
    expect(out.findings).toEqual(['aws_access_key']);
  });

  test('every pair of boundaries inside the secret (three chunks)', () => {
    const start = answer.indexOf(KEY);
    for (let a = start; a <= start + KEY.length; a++) {
      for (let b = a; b <= start + KEY.length; b++) {
        const out = run(redacting.createStreamScanner(), [answer.slice(0, a), answer.slice(a, b), answer.slice(b)]);
        expect(out.text).not.toContain(KEY.slice(4));
        expect(out.findings).toEqual(['aws_access_key']);
      }
    }
  });

  test('a multi-line PEM block split anywhere is caught', () => {
    const text = `here:\n${PEM}\ndone`;
    for (let cut = 1; cut < text.length; cut += 7) {
      const out = run(redacting.createStreamScanner(), [text.slice(0, cut), text.slice(cut)]);
      expect(out.text).toBe('here:\n[REDACTED:private_key]\ndone');
    }
  });

  test('text far from any secret is emitted before the stream ends (bounded hold-back)', () => {
    const scanner = redacting.createStreamScanner();
    const filler = 'lorem ipsum '.repeat(2000);
    const r = scanner.push(filler);
    expect(r.text.length).toBeGreaterThan(0);
    expect(filler.length - r.text.length).toBeLessThanOrEqual(8300);
  });

  test('block stops the stream and emits nothing of the secret', () => {
    for (let cut = 0; cut <= answer.length; cut += 3) {
      const out = run(blocking.createStreamScanner(), [answer.slice(0, cut), answer.slice(cut)]);
      expect(out.blocked).toBe('aws_access_key');
      expect(out.text).not.toContain(KEY.slice(0, 8));
    }
  });

  test('scanText redacts a whole answer', () => {
    expect(redacting.scanText(answer).text).toBe(answer.replace(KEY, '[REDACTED:aws_access_key]'));
  });
});
