// A simulated OpenAI chat endpoint whose streamed answers are scripted to the byte: the test says
// which text deltas the answer has (one SSE event each) and where the raw writes are cut, so a
// secret can be made to straddle both event boundaries and network-write boundaries.
// Non-streamed requests get a JSON answer with the next script's text joined.
import type http from 'node:http';
import { SimulatedServer, type RecordedRequest } from './recorder.ts';

export interface StreamScript {
  /** The answer's text deltas, in order: one `chat.completion.chunk` event each. */
  deltas: string[];
  /**
   * Additionally cut the raw bytes of every event that carries text: each event is written in
   * two writes, split in the middle of its delta's content. Default true.
   */
  splitEvents?: boolean;
  /** Pause between writes so each crosses Envoy as its own body chunk. Default 15 ms. */
  paceMs?: number;
}

export interface ScriptedStreamServer extends SimulatedServer {
  /** The next chat request gets this script (queued, in order); afterwards a fixed answer. */
  scriptStream(s: StreamScript): void;
  /** The raw writes of the last streamed answer, as sent (for asserting the boundaries). */
  readonly lastWrites: string[];
}

export const SCRIPTED_FALLBACK_ANSWER = 'No script queued.';

export function createScriptedStreamSimulator(): ScriptedStreamServer {
  const queue: StreamScript[] = [];
  const lastWrites: string[] = [];

  const handler = async (req: RecordedRequest, _b: unknown, res: http.ServerResponse): Promise<void> => {
    const body = (req.json ?? {}) as { model?: string; stream?: boolean; stream_options?: { include_usage?: boolean } };
    const script = queue.shift() ?? { deltas: [SCRIPTED_FALLBACK_ANSWER] };
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? 'unknown';
    const id = `chatcmpl-scripted${created}`;
    const usage = { prompt_tokens: 3, completion_tokens: script.deltas.length, total_tokens: 3 + script.deltas.length };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id,
          object: 'chat.completion',
          created,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: script.deltas.join(''), refusal: null }, logprobs: null, finish_reason: 'stop' }],
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const base = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_scripted' };
    const event = (payload: object): string => `data: ${JSON.stringify({ ...base, ...payload })}\n\n`;
    const writes: string[] = [event({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] })];
    for (const delta of script.deltas) {
      const ev = event({ choices: [{ index: 0, delta: { content: delta }, logprobs: null, finish_reason: null }] });
      if (script.splitEvents === false || delta.length < 2) {
        writes.push(ev);
        continue;
      }
      // Cut inside the JSON string of the content, halfway through the delta.
      const encoded = JSON.stringify(delta);
      const at = ev.indexOf(encoded) + 1 + Math.floor((encoded.length - 2) / 2);
      writes.push(ev.slice(0, at), ev.slice(at));
    }
    writes.push(event({ choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] }));
    if (body.stream_options?.include_usage) writes.push(event({ choices: [], usage }));
    writes.push('data: [DONE]\n\n');
    lastWrites.length = 0;
    lastWrites.push(...writes);
    const pace = script.paceMs ?? 15;
    for (const w of writes) {
      res.write(w);
      if (pace) await new Promise((r) => setTimeout(r, pace));
    }
    res.end();
  };

  const server = new SimulatedServer((req, b, res) => {
    const path = req.path.split('?')[0] ?? '';
    if (req.method === 'POST' && path.endsWith('/chat/completions')) return handler(req, b, res);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `Unknown path ${path}`, type: 'invalid_request_error', code: 'unknown_url' } }));
  }) as ScriptedStreamServer;
  const reset = server.reset.bind(server);
  Object.assign(server, {
    scriptStream: (s: StreamScript) => queue.push(s),
    lastWrites,
    reset: () => {
      reset();
      queue.length = 0;
    },
  });
  return server;
}
