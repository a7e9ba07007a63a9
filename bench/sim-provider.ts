// A simulated OpenAI provider for benchmarks: chat completions only, fixed latency for JSON
// answers, paced SSE for streams. Unlike test/simulators/openai.ts it records nothing and never
// JSON-parses the request (two regex probes instead), so its own CPU per request stays small and
// it can run for minutes without growing. Loopback only.
//
// For the fallback benchmark (bench/fallback.ts), opt-in only: Anthropic Messages JSON answers on
// POST .../messages, a request header that makes this server fail that request after a fixed
// delay, and per-request service times keyed by a request header.
//
// Run as a process: node bench/sim-provider.ts [--port 0] [--latency-ms 20] [--chunks 20] [--chunk-interval-ms 5]
// It prints one JSON line {"port":N} on stdout and, when forked, sends {type:'ready',port} over IPC.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

export interface SimOptions {
  port?: number;
  /** Delay before a JSON answer is written (and before the first SSE chunk). */
  latencyMs?: number;
  /** SSE content chunks per streamed answer (plus role, finish, usage and [DONE] events). */
  chunks?: number;
  chunkIntervalMs?: number;
  /**
   * Fallback benchmarks: a request whose header of this name is "1" is answered `failStatus`
   * (OpenAI error body) after `failDelayMs`, whatever its path. The choice is the request's own,
   * never state shared across requests. Off when unset.
   */
  failHeader?: string;
  failStatus?: number;
  failDelayMs?: number;
  /** Record each request's service time (request in -> response handed to the socket), tagged with this header's value. Off when unset. */
  timingHeader?: string;
  /** Also answer Anthropic Messages (non-streamed JSON) on POST .../messages. */
  anthropic?: boolean;
  /**
   * Long-lived streams (bench/streams.ts), off when unset or 0: a streamed answer sends one content
   * chunk every `chunkIntervalMs` until `holdMs` have passed since its first event (`chunks` is
   * ignored), each event built when it is sent, so thousands of open streams cost little memory.
   * `configureHold` changes both for the streams already open too.
   */
  holdMs?: number;
}

/** Streams of the hold mode (`holdMs`): open now, and counted since the start. */
export interface SimHoldStats {
  open: number;
  started: number;
  completed: number;
  aborted: number;
}

/** One request as this simulator served it (only with `timingHeader`). */
export interface SimTiming {
  tag: string;
  status: number;
  /** performance.now() in the simulator's process when the request's headers arrived */
  at: number;
  /** ms from the request's headers arriving to the response's last byte handed to the socket */
  ms: number;
  path: string;
}

const MAX_TIMINGS = 1_000_000;

const STREAM_RE = /"stream"\s*:\s*true/;
const USAGE_RE = /"include_usage"\s*:\s*true/;
const MODEL_RE = /"model"\s*:\s*"([^"]{1,100})"/;

const FAIL_BODY = '{"error":{"message":"The server had an error while processing your request (simulated).","type":"server_error","param":null,"code":null}}';

function anthropicJson(model: string, promptBytes: number): string {
  return JSON.stringify({
    id: 'msg_bench00000000000000000001',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: ANSWER }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: Math.max(1, Math.round(promptBytes / 4)), cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 40, service_tier: 'standard' },
  });
}

export const ANSWER = 'The quick brown fox jumps over the lazy dog. '.repeat(4).trim();
const WORDS = 'The primary database failed over at two in the morning and the replica caught up within a minute, so customers saw a short burst of errors'.split(' ');

function completionJson(model: string, promptBytes: number): string {
  const prompt = Math.max(1, Math.round(promptBytes / 4));
  return JSON.stringify({
    id: 'chatcmpl-bench0000000000000000000001',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    system_fingerprint: 'fp_bench',
    choices: [{ index: 0, message: { role: 'assistant', content: ANSWER, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: prompt, completion_tokens: 40, total_tokens: prompt + 40 },
  });
}

function sseEvents(model: string, chunks: number, includeUsage: boolean, promptBytes: number): string[] {
  const base = `"id":"chatcmpl-bench0000000000000000000002","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(model)},"system_fingerprint":"fp_bench"`;
  const ev = (choices: string, extra = '') => `data: {${base},"choices":${choices}${extra}}\n\n`;
  const out = [ev('[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]')];
  // Prose, one word per event, like a real token stream.
  for (let i = 0; i < chunks; i++) out.push(ev(`[{"index":0,"delta":{"content":${JSON.stringify(`${i === 0 ? '' : ' '}${WORDS[i % WORDS.length]}`)}},"logprobs":null,"finish_reason":null}]`));
  out.push(ev('[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]'));
  if (includeUsage) {
    const prompt = Math.max(1, Math.round(promptBytes / 4));
    out.push(ev('[]', `,"usage":{"prompt_tokens":${prompt},"completion_tokens":${chunks},"total_tokens":${prompt + chunks}}`));
  }
  out.push('data: [DONE]\n\n');
  return out;
}

export interface SimServer {
  port: number;
  url: string;
  stop(): Promise<void>;
  /** What was recorded with `timingHeader` (empty without it); `clear` starts over. */
  timings(clear?: boolean): SimTiming[];
  /** Hold mode: changes the chunk interval and hold time, also of the streams already open. */
  configureHold(o: { holdMs?: number; chunkIntervalMs?: number }): void;
  holdStats(): SimHoldStats;
}

export async function startSimProvider(opts: SimOptions = {}): Promise<SimServer> {
  const latencyMs = opts.latencyMs ?? 20;
  const chunks = opts.chunks ?? 20;
  const interval = opts.chunkIntervalMs ?? 5;
  const failHeader = opts.failHeader?.toLowerCase();
  const timingHeader = opts.timingHeader?.toLowerCase();
  let timings: SimTiming[] = [];
  const hold = { ms: opts.holdMs ?? 0, intervalMs: interval };
  const holdStats: SimHoldStats = { open: 0, started: 0, completed: 0, aborted: 0 };
  const holdStream = (res: http.ServerResponse, model: string, includeUsage: boolean, promptBytes: number) => {
    const base = `"id":"chatcmpl-bench0000000000000000000003","object":"chat.completion.chunk","created":${Math.floor(Date.now() / 1000)},"model":${JSON.stringify(model)},"system_fingerprint":"fp_bench"`;
    const ev = (choices: string, extra = '') => `data: {${base},"choices":${choices}${extra}}\n\n`;
    let sent = 0;
    let start = 0;
    let timer: NodeJS.Timeout | undefined;
    holdStats.started++;
    holdStats.open++;
    res.once('close', () => {
      clearTimeout(timer);
      holdStats.open--;
      if (res.writableFinished) holdStats.completed++;
      else holdStats.aborted++;
    });
    const next = () => {
      if (res.destroyed) return;
      if (sent === 0) {
        start = performance.now();
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(ev('[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]'));
      }
      if (sent > 0 && performance.now() - start >= hold.ms) {
        let tail = ev('[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]');
        if (includeUsage) {
          const prompt = Math.max(1, Math.round(promptBytes / 4));
          tail += ev('[]', `,"usage":{"prompt_tokens":${prompt},"completion_tokens":${sent},"total_tokens":${prompt + sent}}`);
        }
        res.end(`${tail}data: [DONE]\n\n`);
        return;
      }
      res.write(ev(`[{"index":0,"delta":{"content":${JSON.stringify(`${sent === 0 ? '' : ' '}${WORDS[sent % WORDS.length]}`)}},"logprobs":null,"finish_reason":null}]`));
      sent++;
      timer = setTimeout(next, hold.intervalMs);
    };
    timer = setTimeout(next, latencyMs);
  };
  const server = http.createServer((req, res) => {
    if (timingHeader) {
      const start = performance.now();
      const tag = String(req.headers[timingHeader] ?? '');
      res.once('finish', () => {
        if (timings.length < MAX_TIMINGS) timings.push({ tag, status: res.statusCode, at: start, ms: performance.now() - start, path: req.url ?? '' });
      });
    }
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      if (failHeader && req.headers[failHeader] === '1') {
        setTimeout(() => {
          res.writeHead(opts.failStatus ?? 500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(FAIL_BODY) });
          res.end(FAIL_BODY);
        }, opts.failDelayMs ?? latencyMs);
        return;
      }
      if (opts.anthropic && req.method === 'POST' && req.url?.split('?')[0]?.endsWith('/messages')) {
        const body = Buffer.concat(parts).toString('latin1');
        if (STREAM_RE.test(body)) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end('{"type":"error","error":{"type":"invalid_request_error","message":"streaming is not simulated here"}}');
          return;
        }
        const payload = anthropicJson(MODEL_RE.exec(body)?.[1] ?? 'claude-sonnet-4-5', body.length);
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
          res.end(payload);
        }, latencyMs);
        return;
      }
      if (req.method !== 'POST' || !req.url?.split('?')[0]?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"unknown path","type":"invalid_request_error","param":null,"code":"unknown_url"}}');
        return;
      }
      const body = parts.length === 1 ? (parts[0] as Buffer).toString('latin1') : Buffer.concat(parts).toString('latin1');
      const model = MODEL_RE.exec(body)?.[1] ?? 'gpt-4o-mini';
      if (!STREAM_RE.test(body)) {
        const payload = completionJson(model, body.length);
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
          res.end(payload);
        }, latencyMs);
        return;
      }
      if (hold.ms > 0) {
        holdStream(res, model, USAGE_RE.test(body), body.length);
        return;
      }
      const events = sseEvents(model, chunks, USAGE_RE.test(body), body.length);
      let i = 0;
      const next = () => {
        if (res.destroyed) return;
        if (i === 0) res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write(events[i++]);
        if (i >= events.length) res.end();
        else setTimeout(next, interval);
      };
      setTimeout(next, latencyMs);
    });
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    configureHold(o) {
      if (o.holdMs !== undefined) hold.ms = o.holdMs;
      if (o.chunkIntervalMs !== undefined) hold.intervalMs = o.chunkIntervalMs;
    },
    holdStats: () => ({ ...holdStats }),
    timings(clear = false) {
      const out = timings;
      if (clear) timings = [];
      return out;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, 'latency-ms': { type: 'string', default: '20' }, chunks: { type: 'string', default: '20' }, 'chunk-interval-ms': { type: 'string', default: '5' } } });
  const sim = await startSimProvider({ port: Number(values.port), latencyMs: Number(values['latency-ms']), chunks: Number(values.chunks), chunkIntervalMs: Number(values['chunk-interval-ms']) });
  console.log(JSON.stringify({ port: sim.port }));
  process.send?.({ type: 'ready', port: sim.port });
  const stop = () => void sim.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Forked: die with the parent.
  process.on('disconnect', stop);
}
