// Open-loop load generator. Request i is due at t0 + i/rate whatever happened to the earlier
// ones, and its latency is measured from that due time, not from when it actually left: a stall
// anywhere (gateway, Envoy, the generator's own event loop, undici's queue) shows up in the
// percentiles instead of silently lowering the offered rate (no coordinated omission).
// The generator's own health is reported too: send lag (actual send - due time) and its CPU.
//
// Runs in its own process (bench/run.ts forks it per scenario) so its event loop never shares
// a core slice with the simulator or the orchestrator. Bounded: `rate * (warmupSec + durationSec)`
// requests at most, and everything is torn down `timeoutMs` after the last one was due.
import { Pool } from 'undici';
import { fileURLToPath } from 'node:url';

export interface LoadOptions {
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Requests per second, offered. */
  rate: number;
  durationSec: number;
  /** Sent at the same rate before the measured window; their results are discarded. */
  warmupSec?: number;
  connections?: number;
  /** Per-request bound; unfinished requests at the end count as errors. */
  timeoutMs?: number;
  /** Streamed answer: record time to first body byte as well. */
  stream?: boolean;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  rate: number;
  durationSec: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  errorSamples: string[];
  statusCounts: Record<string, number>;
  /** ok responses / measured window (first due time to last completion). */
  achievedRate: number;
  /** ms, from the due time, ok requests plus failures (at the time they failed). */
  latency: Percentiles;
  /** ms from the due time to the first body byte (stream) or the response headers (JSON). */
  ttfb: Percentiles;
  /** Streams: ms from the due time to the first SSE event carrying non-empty text (the first token). */
  ttft: Percentiles;
  /** ms the generator was late sending (its own stall; should stay ~0). */
  sendLag: Percentiles;
  /** The generator process itself over the measured window. */
  generatorCpuSec: number;
  generatorCpuShare: number;
}

const FIRST_TOKEN = /"(content|text)":"[^"]/;

function percentiles(values: Float64Array): Percentiles {
  if (values.length === 0) return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  const s = Float64Array.from(values).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
  let sum = 0;
  for (const v of s) sum += v;
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return { p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), p999: r(at(0.999)), max: r(s[s.length - 1] as number), mean: r(sum / s.length) };
}

/** Runs one open-loop load; `onMeasure` marks the start and end of the measured window. */
export async function runLoad(opts: LoadOptions, onMeasure?: (phase: 'start' | 'end') => void): Promise<LoadResult> {
  const warmup = Math.round(opts.rate * (opts.warmupSec ?? 0));
  const measured = Math.round(opts.rate * opts.durationSec);
  const total = warmup + measured;
  const interval = 1000 / opts.rate;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const pool = new Pool(opts.url, {
    connections: opts.connections ?? 512,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connectTimeout: timeoutMs,
  });

  const latency = new Float64Array(total).fill(-1);
  const ttfb = new Float64Array(total).fill(-1);
  const ttft = new Float64Array(total).fill(-1);
  const lag = new Float64Array(total);
  const status = new Uint16Array(total);
  const errorSamples: string[] = [];
  let errors = 0;
  let cancelled = 0;
  let cancelling = false;
  let done = 0;
  let lastDone = 0;
  let cpuStart = process.cpuUsage();
  let measureStartAt = 0;

  const body = Buffer.from(opts.body);
  const headers = { ...opts.headers, 'content-length': String(body.length) };
  const t0 = performance.now() + 20;
  const due = (i: number) => t0 + i * interval;

  let allDone: () => void = () => undefined;
  const finished = new Promise<void>((r) => (allDone = r));
  const complete = (i: number) => {
    done++;
    if (i >= warmup) lastDone = performance.now();
    if (done === total) allDone();
  };

  // pool.dispatch with a bare handler: no promise, no stream object per request. At ~1 kreq/s
  // pool.request() + for-await cost the generator ~0.8 ms CPU per request on this machine.
  const fire = (i: number) => {
    const scheduled = due(i);
    lag[i] = performance.now() - scheduled;
    let first = true;
    let settled = false;
    const finish = () => {
      if (settled) return false;
      settled = true;
      latency[i] = performance.now() - scheduled;
      complete(i);
      return true;
    };
    pool.dispatch(
      { origin: opts.url, path: opts.path, method: 'POST', headers, body },
      // The legacy handler shape: Pool.dispatch asserts it (the controller API needs an interceptor).
      {
        onConnect() {},
        onHeaders(statusCode: number) {
          status[i] = statusCode;
          if (!opts.stream) ttfb[i] = performance.now() - scheduled;
          return true;
        },
        onData(chunk: Buffer) {
          if (opts.stream) {
            if (first) ttfb[i] = performance.now() - scheduled;
            // The first byte is usually the role event with empty content; the first token is what users see.
            if ((ttft[i] as number) < 0 && FIRST_TOKEN.test(chunk.toString('latin1'))) ttft[i] = performance.now() - scheduled;
          }
          first = false;
          return true;
        },
        onComplete() {
          finish();
        },
        onError(err: Error) {
          status[i] = 0;
          if (finish()) {
            if (i >= warmup) errors++;
            if (cancelling) cancelled++;
            else if (errorSamples.length < 5) errorSamples.push(`${err.name}: ${err.message}`);
          }
        },
      } as unknown as Parameters<Pool['dispatch']>[1],
    );
  };

  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && due(next) <= now) {
        if (next === warmup) {
          measureStartAt = due(next);
          cpuStart = process.cpuUsage();
          onMeasure?.('start');
        }
        fire(next++);
      }
      if (next >= total) return resolve();
      const wait = due(next) - performance.now();
      if (wait > 1.5) setTimeout(tick, Math.floor(wait - 0.5));
      else setImmediate(tick);
    };
    setTimeout(tick, 15);
  });
  const sendEnd = performance.now();
  let timedOut = false;
  await Promise.race([finished, new Promise<void>((r) => setTimeout(() => ((timedOut = true), r()), timeoutMs + 1000))]);
  onMeasure?.('end');
  const cpu = process.cpuUsage(cpuStart);
  const windowMs = Math.max(1, (lastDone || performance.now()) - measureStartAt);
  cancelling = true; // whatever is still in flight now has waited past the deadline
  await pool.destroy().catch(() => undefined);
  if (cancelled) errorSamples.push(`${cancelled} requests still unanswered ${timeoutMs + 1000} ms after the last send: cancelled, counted as errors`);

  // Collect the measured window only.
  const lat: number[] = [];
  const tt: number[] = [];
  const tft: number[] = [];
  const statusCounts: Record<string, number> = {};
  let ok = 0;
  let non2xx = 0;
  let unfinished = 0;
  for (let i = warmup; i < total; i++) {
    let l = latency[i] as number;
    if (l < 0) {
      unfinished++;
      l = sendEnd + timeoutMs - due(i);
    }
    lat.push(l);
    const s = status[i] as number;
    statusCounts[String(s)] = (statusCounts[String(s)] ?? 0) + 1;
    if (s >= 200 && s < 300) {
      ok++;
      if ((ttfb[i] as number) >= 0) tt.push(ttfb[i] as number);
      if ((ttft[i] as number) >= 0) tft.push(ttft[i] as number);
    } else if (s !== 0) non2xx++;
  }
  if (timedOut && unfinished && errorSamples.length < 5) errorSamples.push(`${unfinished} requests unfinished at the deadline`);
  return {
    rate: opts.rate,
    durationSec: opts.durationSec,
    sent: measured,
    ok,
    non2xx,
    errors: errors + unfinished,
    errorSamples,
    statusCounts,
    achievedRate: Math.round((ok / windowMs) * 1000 * 10) / 10,
    latency: percentiles(Float64Array.from(lat)),
    ttfb: percentiles(Float64Array.from(tt)),
    ttft: percentiles(Float64Array.from(tft)),
    sendLag: percentiles(lag.subarray(warmup)),
    generatorCpuSec: (cpu.user + cpu.system) / 1e6,
    generatorCpuShare: Math.round(((cpu.user + cpu.system) / 1e3 / windowMs) * 1000) / 1000,
  };
}

// Forked by bench/run.ts: options arrive as the first message, the result goes back the same way.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.send) {
    // The orchestrator is gone (Ctrl-C, a crash): nobody wants the result, stop sending now.
    process.once('disconnect', () => process.exit(0));
    process.once('message', (opts: LoadOptions) => {
      void runLoad(opts, (phase) => process.send?.({ type: 'measure', phase })).then(
        (result) => process.send?.({ type: 'result', result }, () => process.exit(0)),
        (err: unknown) => {
          console.error(err);
          process.exit(1);
        },
      );
    });
    process.send({ type: 'ready' });
  } else {
    const opts = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
    console.log(JSON.stringify(await runLoad(opts), null, 1));
    process.exit(0);
  }
}
