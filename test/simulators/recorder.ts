// Shared plumbing for simulated providers: a loopback HTTP server that records every request
// (method, path, headers, body) and lets a test script the next responses.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: unknown;
}

/** What a scripted response does instead of the normal answer. */
export interface Behaviour {
  status?: number;
  /** Body for an error status; JSON-encoded if not a string. */
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** For streams: close the connection after this many chunks, without the terminal event. */
  cutAfterChunks?: number;
  /** Reset the connection before answering. */
  reset?: boolean;
  /** Text the answer should contain (default: a fixed sentence). */
  text?: string;
}

export type Handler = (req: RecordedRequest, behaviour: Behaviour, res: http.ServerResponse) => void | Promise<void>;

export class SimulatedServer {
  readonly requests: RecordedRequest[] = [];
  private readonly script: Behaviour[] = [];
  defaultBehaviour: Behaviour = {};
  private server: http.Server | undefined;
  port = 0;

  private readonly handler: Handler;

  constructor(handler: Handler) {
    this.handler = handler;
  }

  /** The next requests get these behaviours, in order; then defaultBehaviour. */
  enqueue(...b: Behaviour[]): void {
    this.script.push(...b);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  reset(): void {
    this.requests.length = 0;
    this.script.length = 0;
    this.defaultBehaviour = {};
  }

  async start(port = 0): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown = undefined;
        try {
          json = body ? JSON.parse(body) : undefined;
        } catch {
          json = undefined;
        }
        const rec: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body, json };
        this.requests.push(rec);
        const behaviour = this.script.shift() ?? this.defaultBehaviour;
        const run = async () => {
          if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
          if (behaviour.reset) {
            req.socket.destroy();
            return;
          }
          if (behaviour.status && behaviour.status >= 400) {
            const payload = typeof behaviour.body === 'string' ? behaviour.body : JSON.stringify(behaviour.body ?? { error: { message: 'simulated failure', type: 'server_error', code: null } });
            res.writeHead(behaviour.status, { 'content-type': 'application/json', ...(behaviour.headers ?? {}) });
            res.end(payload);
            return;
          }
          await this.handler(rec, behaviour, res);
        };
        run().catch(() => res.destroy());
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** Writes stream chunks with an optional cut, pacing them so they cross Envoy as separate frames. */
export async function writeChunks(res: http.ServerResponse, chunks: (string | Uint8Array)[], behaviour: Behaviour, paceMs = 0): Promise<void> {
  for (let i = 0; i < chunks.length; i++) {
    if (behaviour.cutAfterChunks !== undefined && i >= behaviour.cutAfterChunks) {
      res.socket?.destroy();
      return;
    }
    res.write(chunks[i]);
    if (paceMs) await new Promise((r) => setTimeout(r, paceMs));
  }
  res.end();
}
