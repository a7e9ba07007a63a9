// Scanning cost: linear in the input whatever its content (re2js + linear prefilters), and an
// absolute budget for 1 MB of adversarial input.
import { createTextScanner } from '../../../extproc/guardrails/scanner.ts';
import { BUILTIN_RULES } from '../../../extproc/guardrails/policy.ts';
import { adversarialMegabyte } from '../../fixtures/guardrails/adversarial.ts';

const scanner = createTextScanner([...BUILTIN_RULES]);

function bestOf(runs: number, text: string): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    scanner.scan(text);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

describe('scan cost', () => {
  const mb = adversarialMegabyte();

  test('1 MB adversarial input costs at most ~linear multiples of 1/16 of it (no blow-up)', () => {
    // The same mix at 1/16 size: repeat every flood unit, just shorter.
    const sixteenth = Buffer.from(
      Array.from({ length: 20 }, (_, k) => mb.slice(k * Math.ceil(mb.length / 20), k * Math.ceil(mb.length / 20) + Math.ceil(mb.length / 320))).join(''),
    ).toString();
    bestOf(2, sixteenth); // warm-up
    const small = bestOf(3, sixteenth);
    const large = bestOf(3, mb);
    console.log(`1 MB adversarial: ${large.toFixed(1)} ms; 64 KB of the same mix: ${small.toFixed(1)} ms`);
    // Linear would be 16x; allow 3x slack for timer noise and GC, far below quadratic (256x).
    expect(large).toBeLessThan(Math.max(small, 1) * 48);
  });

  // The absolute budget from the issue. Opt-in (SB_PERF_BUDGET=1) because it depends on the
  // machine: on a quiet core it is the figure to meet; on a loaded 2-core CI box it is not.
  const budgetTest = process.env.SB_PERF_BUDGET === '1' ? test : test.skip;
  budgetTest('1 MB adversarial input scans in under 100 ms', () => {
    bestOf(2, mb);
    expect(bestOf(5, mb)).toBeLessThan(100);
  });
});
