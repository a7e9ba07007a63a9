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

describe('stream scanner latency', () => {
  const prose = 'The quarterly numbers look healthy and the board is pleased with the progress made. ';

  test('an ordinary answer is released as it streams, at most a short tail behind', () => {
    const scanner = redacting.createStreamScanner();
    const text = prose.repeat(60); // ~5 KB, no secret
    let emitted = 0;
    let worstLag = 0;
    let pushed = 0;
    for (let i = 0; i < text.length; i += 20) {
      const chunk = text.slice(i, i + 20);
      pushed += chunk.length;
      emitted += scanner.push(chunk).text.length;
      worstLag = Math.max(worstLag, pushed - emitted);
    }
    emitted += scanner.flush().text.length;
    expect(emitted).toBe(text.length);
    // Nowhere near the 8,300-character reach of the PEM rule: only the word in progress (secrets
    // are single tokens), never more than a chunk plus a word.
    expect(worstLag).toBeLessThanOrEqual(20 + 16);
  });

  test('with PII rules on, a short tail is kept too, so a spaced card number is seen whole', () => {
    const pii = createGuardrails({ policies: { default: { actions: { secret: 'redact', pii: 'redact' } } } }).createStreamScanner();
    const card = '4111 1111 1111 1111';
    let out = '';
    let worstLag = 0;
    let pushed = 0;
    let emitted = 0;
    const text = `${prose.repeat(5)}Pay with ${card} today. ${prose.repeat(5)}`;
    for (let i = 0; i < text.length; i += 5) {
      const chunk = text.slice(i, i + 5);
      pushed += chunk.length;
      const r = pii.push(chunk).text;
      out += r;
      emitted += r.length;
      worstLag = Math.max(worstLag, pushed - emitted);
    }
    out += pii.flush().text;
    expect(out).not.toContain('4111 1111');
    expect(worstLag).toBeLessThanOrEqual(48 + 20 + 5);
  });

  test('a PEM block that starts streaming is held back until it ends, then redacted whole', () => {
    const scanner = redacting.createStreamScanner();
    const answer = `${prose.repeat(10)}Here is the key:\n${PEM}\nand that is all.`;
    let out = '';
    for (let i = 0; i < answer.length; i += 7) out += scanner.push(answer.slice(i, i + 7)).text;
    out += scanner.flush().text;
    expect(out).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
    expect(out).toContain('[REDACTED:');
    expect(out).toContain('and that is all.');
  });

  test('a long base64 run is not cut inside while it could still decode to a secret', () => {
    const scanner = redacting.createStreamScanner();
    const encoded = Buffer.from(`aws_access_key_id=${KEY}`.repeat(12)).toString('base64'); // ~600 chars, one run
    const answer = `${prose.repeat(5)}${encoded} done.`;
    let out = '';
    for (let i = 0; i < answer.length; i += 13) out += scanner.push(answer.slice(i, i + 13)).text;
    out += scanner.flush().text;
    expect(out).not.toContain(encoded.slice(0, 40));
  });
});

test('a value arriving chunk by chunk after its keyword is redacted, never leaked', () => {
  const scanner = redacting.createStreamScanner();
  const secret = 'q8Vt3Kz9Lw2Xp7Rj4Nm6Bh1Yc5Fd0Gs3Ta8Ue2Wi';
  let out = scanner.push('Here is the config you asked for, as it stands in the deploy file. aws_secret_access_key = ').text;
  for (let i = 0; i < secret.length; i += 9) out += scanner.push(secret.slice(i, i + 9)).text;
  out += scanner.push(' and that is it.').text + scanner.flush().text;
  expect(out).not.toContain(secret.slice(0, 12));
  expect(out).toContain('[REDACTED:');
});
