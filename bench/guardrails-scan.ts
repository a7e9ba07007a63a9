// Micro-benchmark of the guardrail text scanner: p50 / p99 scan time per 32 KB of text, for
// benign prompts, prompts carrying secrets/PII, and adversarial floods; plus one 1 MB scan each.
// Run: ./node_modules/.bin/node bench/guardrails-scan.ts
// Wall times swing with other load on a shared machine; compare runs by CPU time per scan:
// `cpu` is the main thread's (the scan itself), `all` the whole process's (adds GC helper threads).
import { createTextScanner } from '../extproc/guardrails/scanner.ts';
import { BUILTIN_RULES } from '../extproc/guardrails/policy.ts';
import { Gen, SECRET_GENERATORS, benignPrompt } from '../test/fixtures/guardrails/corpus.ts';
import { adversarialMegabyte } from '../test/fixtures/guardrails/adversarial.ts';

const scanner = createTextScanner([...BUILTIN_RULES]);
const CHUNK = 32 * 1024;

function fillTo(size: number, next: () => string): string {
  let s = '';
  while (s.length < size) s += next() + '\n';
  return Buffer.from(s.slice(0, size)).toString(); // flat string, as JSON.parse would give
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function bench(name: string, make: (i: number) => string, iterations: number, variants = 16): void {
  const inputs = Array.from({ length: variants }, (_, i) => make(i));
  // Warm-up: every input at least twice (JIT, and the regex engine's lazily built DFA states).
  for (let i = 0; i < Math.max(20, 2 * inputs.length); i++) scanner.scan(inputs[i % inputs.length]!);
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const thread0 = process.threadCpuUsage();
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    scanner.scan(inputs[i % inputs.length]!);
    times.push(performance.now() - t0);
  }
  const thread = cpuMs(process.threadCpuUsage(thread0)) / iterations;
  const all = cpuMs(process.cpuUsage(cpu0)) / iterations;
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(28)} p50 ${percentile(times, 50).toFixed(2).padStart(7)} ms   p99 ${percentile(times, 99).toFixed(2).padStart(7)} ms   cpu ${thread.toFixed(2).padStart(6)} ms/scan (all ${all.toFixed(2)})   (${iterations} scans of 32 KB)`);
}

const g = new Gen(42);
const secretIds = Object.keys(SECRET_GENERATORS);
bench('benign prompts', () => fillTo(CHUNK, () => benignPrompt(g)), 400);
bench('prompts with secrets + PII', () => fillTo(CHUNK, () => (g.int(10) === 0 ? SECRET_GENERATORS[g.pick(secretIds)]!(g).text : benignPrompt(g))), 400);
// All 32 slices of the adversarial megabyte, so every flood kind is in the 32 KB figures (and warm
// before the 1 MB scans, as in a gateway that has been serving).
bench('adversarial floods', (i) => adversarialMegabyte().slice(i * CHUNK, (i + 1) * CHUNK), 640, 32);

const mb = adversarialMegabyte();
const benignMb = fillTo(1 << 20, () => benignPrompt(g));
for (const [name, text] of [['1 MB benign', benignMb], ['1 MB adversarial', mb]] as const) {
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const thread0 = process.threadCpuUsage();
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    scanner.scan(text);
    times.push(performance.now() - t0);
  }
  const thread = cpuMs(process.threadCpuUsage(thread0)) / 5;
  const all = cpuMs(process.cpuUsage(cpu0)) / 5;
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(28)} min ${times[0]!.toFixed(1)} ms   median ${times[2]!.toFixed(1)} ms   cpu ${thread.toFixed(1)} ms/scan (all ${all.toFixed(1)})`);
}
