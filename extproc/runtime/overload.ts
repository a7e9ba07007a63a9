// Load shedding. Past its CPU capacity a worker would otherwise queue requests without bound
// (seconds of latency, then Envoy message timeouts). When the event loop's delay over the last
// window exceeds the threshold, new requests are refused at once with 503 + Retry-After, which
// a client or Envoy retry can take elsewhere; requests already admitted run to completion.
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface OverloadGuard {
  overloaded(): boolean;
  /** p99 event-loop delay of the last window, ms. */
  lastDelayMs(): number;
  stop(): void;
}

export function startOverloadGuard(thresholdMs: number, windowMs = 250): OverloadGuard {
  if (thresholdMs <= 0) return { overloaded: () => false, lastDelayMs: () => 0, stop: () => undefined };
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let last = 0;
  const timer = setInterval(() => {
    last = histogram.percentile(99) / 1e6;
    histogram.reset();
  }, windowMs);
  timer.unref();
  return {
    overloaded: () => last > thresholdMs,
    lastDelayMs: () => last,
    stop: () => {
      clearInterval(timer);
      histogram.disable();
    },
  };
}
