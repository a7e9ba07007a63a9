// Generic secret assignments: an identifier in the value position (Azure's default policy name
// in every Service Bus connection string) is not a secret; random values of the same shape are.
import { describe, expect, it } from '@jest/globals';
import { createTextScanner } from '../../../extproc/guardrails/scanner.ts';
import { BUILTIN_RULES } from '../../../extproc/guardrails/policy.ts';
import { isWordIdentifier } from '../../../extproc/guardrails/validators.ts';

const scanner = createTextScanner([...BUILTIN_RULES]);
const ruleIds = (text: string) => scanner.scan(text).map((f) => `${f.ruleId}:${text.slice(f.start, f.end)}`);

describe('word identifiers in generic assignments', () => {
  it.each(['RootManageSharedAccessKey', 'SendOnlyAccessPolicy', 'myAccessKeyName', 'DefaultEndpointsProtocol'])('%s is an identifier', (v) => {
    expect(isWordIdentifier(v)).toBe(true);
  });

  it.each(['xKpQrTzLmWvBaYd', 'aB3dE5fG7hJ9kL1m', 'QWERTYUIOPASDFGH', 'Zq8Lm2Xv9Nc4Bt7Y', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'])('%s is not', (v) => {
    expect(isWordIdentifier(v)).toBe(false);
  });

  it('a Service Bus connection string flags the key, not the policy name', () => {
    const key = 'q8Lm2Xv9Nc4Bt7YzR1kPw3Hs5Jd6Fg0Ae+UiOo=';
    const text = `Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${key}`;
    const found = ruleIds(text);
    expect(found.some((f) => f.includes(key.slice(0, 12)))).toBe(true);
    expect(found.some((f) => f.endsWith(':RootManageSharedAccessKey'))).toBe(false);
  });

  it('a mixed-case random value after access_key= is still flagged', () => {
    expect(ruleIds('access_key = "xKpQrTzLmWvBaYdUeRq"').length).toBeGreaterThan(0);
  });
});
