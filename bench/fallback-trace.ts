// Loaded into the ext_proc workers by bench/fallback.ts with BENCH_FB_TRACE=1 (NODE_OPTIONS
// --import): times the upstream filter's handler (the worker's own part of attempt 2's ext_proc
// round trip) and the worker's event-loop delay, and hands both to the orchestrator over IPC.
// Measurement only; nothing in the request path changes except a performance.now() pair.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { UpstreamFilter } from '../extproc/pipeline/upstream-filter.ts';
import type { ProcessingRequest } from '../extproc/server/messages.ts';

const MAX = 1_000_000;
let handleMs: number[] = [];
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();

const original = UpstreamFilter.prototype.handle;
UpstreamFilter.prototype.handle = async function (this: UpstreamFilter, req: ProcessingRequest) {
  const t0 = performance.now();
  try {
    return await original.call(this, req);
  } finally {
    if (req.request_headers && handleMs.length < MAX) handleMs.push(performance.now() - t0);
  }
};

process.on('message', (m: { type?: string }) => {
  if (m?.type !== 'bench-fallback-trace') return;
  // The histogram holds whole timer intervals (resolution 1 ms): the delay is what exceeds 1 ms.
  const ms = (ns: number) => Math.max(0, ns / 1e6 - 1);
  process.send?.({ type: 'bench-fallback-trace', handleMs, eventLoopDelayMs: { p50: ms(loop.percentile(50)), p90: ms(loop.percentile(90)), p99: ms(loop.percentile(99)), max: ms(loop.max) } });
  handleMs = [];
  loop.reset();
});
