// Precision / recall over the deterministic labelled corpus (test/fixtures/guardrails/corpus.ts).
import { createTextScanner } from '../../../extproc/guardrails/scanner.ts';
import { SECRET_RULES } from '../../../extproc/guardrails/rules/secret-rules.ts';
import { PII_RULES } from '../../../extproc/guardrails/rules/pii-rules.ts';
import { Gen, SECRET_GENERATORS, benignPrompt, formatCard, groupIban, invalidChecksumLookalike, validCard, validIban, validNino, validSsn, validSteuerId } from '../../fixtures/guardrails/corpus.ts';

const scanner = createTextScanner([...SECRET_RULES, ...PII_RULES]);
const PROVIDER_RULES = SECRET_RULES.filter((r) => r.specificity === 'provider');
const POSITIVES_PER_RULE = 40;

describe('labelled corpus', () => {
  test('every provider-specific rule has a generator', () => {
    expect(PROVIDER_RULES.map((r) => r.id).filter((id) => !(id in SECRET_GENERATORS))).toEqual([]);
  });

  test('provider-specific secrets: recall >= 99% per rule, false positives <= 0.1% on 10,000 benign prompts', () => {
    const g = new Gen(20260101);
    const lines: string[] = [];
    let totalHit = 0;
    let total = 0;
    for (const rule of PROVIDER_RULES) {
      let hit = 0;
      for (let i = 0; i < POSITIVES_PER_RULE; i++) {
        const { value, text } = SECRET_GENERATORS[rule.id]!(g);
        const found = scanner.scan(text).some((m) => m.ruleId === rule.id && text.slice(m.start, m.end).includes(value.slice(0, 12)));
        if (found) hit++;
      }
      totalHit += hit;
      total += POSITIVES_PER_RULE;
      lines.push(`${rule.id.padEnd(28)} recall ${((100 * hit) / POSITIVES_PER_RULE).toFixed(1)}%`);
      expect({ rule: rule.id, recall: hit / POSITIVES_PER_RULE }).toEqual({ rule: rule.id, recall: expect.any(Number) });
      expect(hit / POSITIVES_PER_RULE).toBeGreaterThanOrEqual(0.99);
    }
    const benign = new Gen(7);
    let flaggedProvider = 0;
    let flaggedGeneric = 0;
    let flaggedPii = 0;
    const BENIGN = 10_000;
    const examples: string[] = [];
    for (let i = 0; i < BENIGN; i++) {
      const text = benignPrompt(benign);
      const found = scanner.scan(text);
      if (found.some((m) => PROVIDER_RULES.some((r) => r.id === m.ruleId))) {
        flaggedProvider++;
        if (examples.length < 5) examples.push(found.map((m) => `${m.ruleId}:${text.slice(m.start, m.end)}`).join(' '));
      }
      if (found.some((m) => m.ruleId === 'generic_secret_assignment')) flaggedGeneric++;
      if (found.some((m) => m.family === 'pii')) flaggedPii++;
    }
    const fpRate = flaggedProvider / BENIGN;
    const precision = totalHit / (totalHit + flaggedProvider);
    console.log(
      [
        ...lines,
        `provider-specific: recall ${((100 * totalHit) / total).toFixed(2)}% precision ${(100 * precision).toFixed(2)}% FP ${(100 * fpRate).toFixed(3)}% (${flaggedProvider}/${BENIGN})`,
        `generic assignment: benign flagged ${flaggedGeneric}/${BENIGN}`,
        `pii: benign prompts with a PII finding ${flaggedPii}/${BENIGN}`,
        ...examples,
      ].join('\n'),
    );
    expect(fpRate).toBeLessThanOrEqual(0.001);
  });

  test('checksummed PII: recall >= 99%, zero flags on 1,000 invalid-checksum look-alikes', () => {
    const g = new Gen(99);
    const cases: [string, () => string][] = [
      ['payment_card', () => `card number ${formatCard(g, validCard(g))} exp 12/29`],
      ['iban', () => `please wire to ${g.int(2) ? groupIban(validIban(g)) : validIban(g)} today`],
      ['de_steuer_id', () => `Steuer-ID: ${validSteuerId(g)}`],
      ['us_ssn', () => `SSN ${validSsn(g)} on file`],
      ['uk_nino', () => `NI number ${validNino(g)}.`],
    ];
    const lines: string[] = [];
    for (const [ruleId, make] of cases) {
      let hit = 0;
      const N = 200;
      for (let i = 0; i < N; i++) if (scanner.scan(make()).some((m) => m.ruleId === ruleId)) hit++;
      lines.push(`${ruleId.padEnd(14)} recall ${((100 * hit) / N).toFixed(1)}%`);
      expect({ ruleId, recall: hit / N >= 0.99 }).toEqual({ ruleId, recall: true });
    }
    let flagged = 0;
    for (let i = 0; i < 1000; i++) {
      const text = `account ${invalidChecksumLookalike(g)} please`;
      if (scanner.scan(text).some((m) => m.ruleId === 'payment_card' || m.ruleId === 'iban')) flagged++;
    }
    lines.push(`invalid-checksum look-alikes flagged: ${flagged}/1000`);
    console.log(lines.join('\n'));
    expect(flagged).toBe(0);
  });
});
