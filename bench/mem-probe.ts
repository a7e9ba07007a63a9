// Preloaded into the gateway's workers by bench/streams.ts (NODE_OPTIONS=--import=...): writes
// process.memoryUsage() and V8 heap-space sizes to $BENCH_MEM_PROBE_DIR/mem-<pid>.json every
// 500 ms, so the benchmark can read the worker's heap from outside. Nothing else; the timer is
// unref'd and the file is small. Bench-only: never loaded by the gateway itself.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';

const dir = process.env.BENCH_MEM_PROBE_DIR;
if (dir) {
  const file = path.join(dir, `mem-${process.pid}.json`);
  const write = () => {
    const m = process.memoryUsage();
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, Math.round(s.space_used_size / 1024)]));
    try {
      writeFileSync(file, JSON.stringify({ pid: process.pid, t: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, spacesKiB: spaces }));
    } catch {
      // the bench removed its directory: nothing to report to
    }
  };
  setInterval(write, 500).unref();
  write();
}
