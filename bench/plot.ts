// Latency (p50 and p99) against offered rate for a (Envoy alone), b (Envoy + Switchboard) and the
// peers (LiteLLM, Portkey), from a bench results file, as a hand-written SVG (no plotting
// dependency) and, when `rsvg-convert` is on PATH (Debian: librsvg2-bin), a PNG beside it.
//
//   node bench/plot.ts [bench/out/latest.json] [--out bench/latency-vs-rate.svg]
//
// Every non-streamed measured run counts (baselines, ceiling-search steps, fixed rates; warm-ups
// and streams left out). Where a system ran one rate more than once, the point is the longest run
// at that rate, and among runs of equal length the one with the lowest p99 (the bench retries a
// failed ceiling step once because foreign load on the machine only ever adds latency). A hollow
// marker is a run that failed the bench's criteria (errors, or < 95% of the offered rate achieved):
// its latencies include requests cancelled at the deadline. Both axes are logarithmic.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Run {
  scenario: string;
  system: string;
  load: { rate: number; durationSec: number; achievedRate: number; errors: number; non2xx: number; latency: { p50: number; p99: number } };
}
interface Summary {
  machine: { date: string; commit: string; nproc: string; cpuModel: string; simulatorLatencyMs: number; workers: number };
  p99Target?: number;
  ceilingA?: number;
  ceilingB?: number;
  peersOnly?: boolean;
  peers?: { system: string; label: string; ceiling?: number; error?: string }[];
  all: Run[];
}
export interface Point {
  rate: number;
  p50: number;
  p99: number;
  ok: boolean;
}

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const COLORS: Record<string, string> = { a: '#1f77b4', b: '#d62728', 'p-litellm': '#2ca02c', 'p-portkey': '#9467bd' };
const EXTRA_COLORS = ['#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

/** One point per (system, offered rate): see the header for which run wins. */
export function points(runs: Run[]): Map<string, Point[]> {
  const best = new Map<string, Map<number, Run>>();
  for (const r of runs) {
    if (r.scenario === 'warm-up' || r.scenario.startsWith('stream') || r.scenario.startsWith('profile')) continue;
    if (!Number.isFinite(r.load.latency.p50) || !Number.isFinite(r.load.latency.p99)) continue;
    const bySys = best.get(r.system) ?? new Map<number, Run>();
    best.set(r.system, bySys);
    const cur = bySys.get(r.load.rate);
    if (!cur || r.load.durationSec > cur.load.durationSec || (r.load.durationSec === cur.load.durationSec && r.load.latency.p99 < cur.load.latency.p99)) bySys.set(r.load.rate, r);
  }
  const out = new Map<string, Point[]>();
  for (const [sys, byRate] of best) {
    out.set(
      sys,
      [...byRate.values()]
        .sort((x, y) => x.load.rate - y.load.rate)
        .map((r) => ({ rate: r.load.rate, p50: r.load.latency.p50, p99: r.load.latency.p99, ok: r.load.errors === 0 && r.load.non2xx === 0 && r.load.achievedRate >= 0.95 * r.load.rate })),
    );
  }
  return out;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number) => (v >= 1000 ? `${v / 1000}k` : String(v));

/** The smallest 1, 2 or 5 x 10^k at or above v. */
function niceUp(v: number): number {
  const d = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 5, 10].find((k) => k * d >= v) ?? 10) * d;
}

/** Log-axis ticks: 1, 2, 5 per decade within [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let d = 10 ** Math.floor(Math.log10(lo)); d <= hi; d *= 10) for (const m of [1, 2, 5]) if (d * m >= lo && d * m <= hi) out.push(d * m);
  return out;
}

export function renderSvg(s: Summary): string {
  const series = points(s.all);
  const order = ['a', 'b', ...[...series.keys()].filter((k) => k !== 'a' && k !== 'b').sort()].filter((k) => series.has(k));
  const label = (sys: string) => (sys === 'a' ? 'a: Envoy alone' : sys === 'b' ? `b: Envoy + Switchboard (${s.machine.workers} worker${s.machine.workers === 1 ? '' : 's'})` : (s.peers?.find((p) => p.system === sys)?.label ?? sys));
  const ceiling = (sys: string) => (sys === 'a' ? s.ceilingA : sys === 'b' ? s.ceilingB : s.peers?.find((p) => p.system === sys)?.ceiling);
  const color = (sys: string, i: number) => COLORS[sys] ?? EXTRA_COLORS[i % EXTRA_COLORS.length] ?? '#333';

  const all = [...series.values()].flat();
  const rates = all.map((p) => p.rate);
  const lats = all.flatMap((p) => [p.p50, p.p99]).concat(s.p99Target ? [s.p99Target] : []);
  const xMin = Math.min(...rates) / 1.25;
  const xMax = Math.max(Math.max(...rates) * 1.25, xMin * 10); // at least a decade
  const yMin = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...lats) / 1.2)));
  const yMax = niceUp(Math.max(...lats) * 1.15);

  const W = 1000;
  const H = 640;
  const m = { l: 78, r: 320, t: 64, b: 92 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const X = (v: number) => m.l + ((Math.log10(v) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * pw;
  const Y = (v: number) => m.t + ph - ((Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph;
  const n = (v: number) => v.toFixed(1);

  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`);
  o.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  o.push(`<text x="${m.l}" y="26" font-size="16" font-weight="bold">Latency against offered rate: ~4 KB chat completion, simulated provider (${s.machine.simulatorLatencyMs} ms)</text>`);
  o.push(
    `<text x="${m.l}" y="46" fill="#444">${esc(`Run ${s.machine.date.replace('T', ' ').slice(0, 16)} UTC, commit ${s.machine.commit}, ${s.machine.nproc} cores (${s.machine.cpuModel}); open-loop, latency from each request's due time${s.peersOnly ? '; --peers-only run (no b)' : ''}`)}</text>`,
  );
  // grid and axes
  o.push(`<g stroke="#e3e3e3" stroke-width="1">`);
  for (const t of ticks(yMin, yMax)) o.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${n(Y(t))}" y2="${n(Y(t))}"/>`);
  const xTicks = ticks(xMin, xMax);
  for (const t of xTicks) o.push(`<line y1="${m.t}" y2="${m.t + ph}" x1="${n(X(t))}" x2="${n(X(t))}"/>`);
  o.push('</g>');
  o.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  for (const t of ticks(yMin, yMax)) o.push(`<text x="${m.l - 8}" y="${n(Y(t) + 4)}" text-anchor="end">${fmt(t)}</text>`);
  for (const t of xTicks) o.push(`<text x="${n(X(t))}" y="${m.t + ph + 18}" text-anchor="middle">${fmt(t)}</text>`);
  o.push(`<text x="${m.l + pw / 2}" y="${m.t + ph + 40}" text-anchor="middle" font-size="13">offered rate (requests/s, log scale)</text>`);
  o.push(`<text transform="translate(22 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13">latency (ms, log scale)</text>`);
  o.push(
    `<text x="${m.l}" y="${H - 18}" fill="#555" font-size="11">${esc('One point per system and rate: the longest run at that rate (lowest p99 among equal lengths). Hollow: errors or < 95% of the offered rate achieved.')}</text>`,
  );
  // p99 target
  if (s.p99Target) {
    const y = n(Y(s.p99Target));
    o.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#555" stroke-dasharray="2 4" stroke-width="1.5"/>`);
    o.push(`<text x="${m.l + 6}" y="${Number(y) - 5}" fill="#555">p99 target ${s.p99Target.toFixed(1)} ms (5x a's p99 at 50 rps)</text>`);
  }
  // series
  order.forEach((sys, i) => {
    const pts = series.get(sys) ?? [];
    const c = color(sys, i);
    for (const [key, dash] of [['p50', ''], ['p99', '7 4']] as const) {
      const d = pts.map((p, j) => `${j ? 'L' : 'M'}${n(X(p.rate))} ${n(Y(p[key]))}`).join(' ');
      o.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
      for (const p of pts) {
        const [cx, cy] = [n(X(p.rate)), n(Y(p[key]))];
        const fill = p.ok ? c : '#fff';
        if (key === 'p50') o.push(`<circle cx="${cx}" cy="${cy}" r="3.6" fill="${fill}" stroke="${c}" stroke-width="1.6"><title>${esc(`${label(sys)} @ ${p.rate} rps: p50 ${p.p50.toFixed(1)} ms`)}</title></circle>`);
        else o.push(`<rect x="${n(Number(cx) - 3.4)}" y="${n(Number(cy) - 3.4)}" width="6.8" height="6.8" fill="${fill}" stroke="${c}" stroke-width="1.6"><title>${esc(`${label(sys)} @ ${p.rate} rps: p99 ${p.p99.toFixed(1)} ms`)}</title></rect>`);
      }
    }
  });
  // legend
  const lx = m.l + pw + 22;
  let ly = m.t + 8;
  o.push(`<text x="${lx}" y="${ly}" font-weight="bold">system</text>`);
  ly += 22;
  order.forEach((sys, i) => {
    const c = color(sys, i);
    const cap = ceiling(sys);
    o.push(`<line x1="${lx}" x2="${lx + 26}" y1="${ly - 4}" y2="${ly - 4}" stroke="${c}" stroke-width="3"/>`);
    o.push(`<text x="${lx + 34}" y="${ly}">${esc(label(sys))}</text>`);
    o.push(`<text x="${lx + 34}" y="${ly + 15}" fill="#555">${esc(cap === undefined ? 'highest rate: not measured' : `highest rate within p99 target: ${cap ? `${cap} rps` : '< 50 rps'}`)}</text>`);
    ly += 38;
  });
  ly += 6;
  o.push(`<line x1="${lx}" x2="${lx + 26}" y1="${ly - 4}" y2="${ly - 4}" stroke="#333" stroke-width="2"/><circle cx="${lx + 13}" cy="${ly - 4}" r="3.6" fill="#333"/>`);
  o.push(`<text x="${lx + 34}" y="${ly}">p50 (solid, circles)</text>`);
  ly += 20;
  o.push(`<line x1="${lx}" x2="${lx + 26}" y1="${ly - 4}" y2="${ly - 4}" stroke="#333" stroke-width="2" stroke-dasharray="7 4"/><rect x="${lx + 9.6}" y="${ly - 7.4}" width="6.8" height="6.8" fill="#333"/>`);
  o.push(`<text x="${lx + 34}" y="${ly}">p99 (dashed, squares)</text>`);
  ly += 20;
  o.push(`<circle cx="${lx + 13}" cy="${ly - 4}" r="3.6" fill="#fff" stroke="#333" stroke-width="1.6"/>`);
  o.push(`<text x="${lx + 34}" y="${ly}">hollow: run failed (errors / &lt; 95%)</text>`);
  const notMeasured = (s.peers ?? []).filter((p) => p.error);
  for (const p of notMeasured) {
    ly += 22;
    o.push(`<text x="${lx}" y="${ly}" fill="#a00" font-size="11">${esc(`${p.label}: ${p.error?.replace(/\s+/g, ' ').slice(0, 48) ?? ''}`)}</text>`);
  }
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}

/** Writes the SVG (and a PNG beside it when rsvg-convert is on PATH); returns the files written. */
export function writePlot(input: string, out: string): string[] {
  const summary = JSON.parse(readFileSync(input, 'utf8')) as Summary;
  writeFileSync(out, renderSvg(summary));
  const written = [out];
  const png = out.replace(/\.svg$/, '.png');
  try {
    execFileSync('rsvg-convert', ['-w', '1500', '-b', 'white', '-o', png, out], { stdio: ['ignore', 'ignore', 'pipe'] });
    written.push(png);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    console.error(e.code === 'ENOENT' ? 'plot: no PNG (rsvg-convert not on PATH; Debian: apt-get install librsvg2-bin)' : `plot: no PNG: rsvg-convert failed: ${e.message}`);
  }
  return written;
}

export const DEFAULT_PLOT = path.join(benchDir, 'latency-vs-rate.svg');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const outIdx = args.indexOf('--out');
  const out = outIdx >= 0 ? (args[outIdx + 1] as string) : DEFAULT_PLOT;
  const input = args.find((a, i) => !a.startsWith('--') && (outIdx < 0 || i !== outIdx + 1)) ?? path.join(benchDir, 'out', 'latest.json');
  for (const f of writePlot(input, out)) console.log(`wrote ${path.relative(process.cwd(), f) || f} from ${path.relative(process.cwd(), input) || input}`);
}
