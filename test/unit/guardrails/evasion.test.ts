// Every evasion the normaliser undoes must still be caught, and redaction must cover the hidden
// secret in the original text.
import { createTextScanner } from '../../../extproc/guardrails/scanner.ts';
import { SECRET_RULES } from '../../../extproc/guardrails/rules/secret-rules.ts';
import { redactSpans } from '../../../extproc/guardrails/redact.ts';
import { base62, crc32 } from '../../../extproc/guardrails/validators.ts';

const scanner = createTextScanner(SECRET_RULES);
const AWS = 'AKIAQ2X7EXAMPLE4KEYZ';
const GITHUB_BODY = 'aBcDeFgHiJkLmNoPqRsTuVwXyZ0123';
const GITHUB_VALID = `ghp_${GITHUB_BODY}${base62(crc32(GITHUB_BODY), 6)}`;
const GITHUB_BAD_CRC = `ghp_${GITHUB_BODY}${base62((crc32(GITHUB_BODY) + 1) >>> 0, 6)}`;

const b64 = (s: string) => Buffer.from(s).toString('base64');
const hex = (s: string) => Buffer.from(s).toString('hex');
const pctAll = (s: string) => [...s].map((c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
const unicodeEscapes = (s: string) => [...s].map((c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')).join('');
const fullWidth = (s: string) => [...s].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join('');
const zeroWidth = (s: string) => [...s].join('\u200b');

const evasions: [string, (s: string) => string, string | undefined][] = [
  ['plain', (s) => s, undefined],
  ['base64', b64, 'base64'],
  ['double base64', (s) => b64(b64(`key: ${s}`)), 'base64'],
  ['hex', hex, 'hex'],
  ['percent-encoding', pctAll, 'normalised'],
  ['double percent-encoding', (s) => pctAll(s).replace(/%/g, '%25'), 'normalised'],
  ['JSON unicode escapes', unicodeEscapes, 'normalised'],
  ['zero-width characters', zeroWidth, 'normalised'],
  ['full-width characters', fullWidth, 'normalised'],
  ['base64 of percent-encoding', (s) => b64(pctAll(s)), 'base64'],
];

describe('evasion normalisation', () => {
  test.each(evasions)('%s is caught and redacted in the original', (_name, hide, evasion) => {
    const hidden = hide(AWS);
    const text = `deploy with ${hidden} please`;
    const found = scanner.scan(text).filter((m) => m.ruleId === 'aws_access_key');
    expect(found).toHaveLength(1);
    expect(found[0]!.evasion).toBe(evasion);
    const redacted = redactSpans(text, found);
    expect(redacted).toBe('deploy with [REDACTED:aws_access_key] please');
  });

  test('a hidden value that is not a secret is not flagged', () => {
    for (const hide of [b64, hex, pctAll, unicodeEscapes, fullWidth, zeroWidth]) {
      expect(scanner.scan(`note: ${hide('AKIA is a prefix but this is prose')}`)).toEqual([]);
    }
  });

  test('checksummed token: right CRC is found when hidden, wrong CRC is not', () => {
    expect(scanner.scan(b64(GITHUB_VALID)).map((m) => m.ruleId)).toEqual(['github_token']);
    expect(scanner.scan(b64(GITHUB_BAD_CRC)).filter((m) => m.ruleId === 'github_token')).toEqual([]);
    expect(scanner.scan(GITHUB_BAD_CRC).filter((m) => m.ruleId === 'github_token')).toEqual([]);
  });
});
