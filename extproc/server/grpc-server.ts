// The gRPC side: Envoy's ExternalProcessor (ext_proc) and AccessLogService, plus gRPC health.
// A custom protobufjs codec is plugged straight into grpc-js, so each message is decoded once
// into a plain object and responses are encoded from plain objects.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { loadEnvoyProtos } from './protos.ts';
import { runProcessingStream, type StreamHandler } from './processing-stream.ts';
import type { ProcessingRequest, ProcessingResponse } from './messages.ts';

/** Which of the two ext_proc filters opened the stream (sent as gRPC initial metadata by Envoy). */
export type FilterRole = 'router' | 'upstream';
export const FILTER_ROLE_METADATA = 'x-sb-filter';

export interface GrpcServerDeps {
  createStreamHandler(role: FilterRole): StreamHandler;
  /** Per-attempt upstream log entries (HTTPAccessLogEntry objects) from Envoy's access log service. */
  onAccessLog?(entries: unknown[]): void;
  onError(err: unknown): void;
}

export interface ListenAddress {
  /** unix:/path or host:port */
  address: string;
}

const MAX_MESSAGE = 64 * 1024 * 1024; // LLM bodies: prompts with images, long contexts

export function createGrpcServer(deps: GrpcServerDeps) {
  const root = loadEnvoyProtos();
  const Req = root.lookupType('envoy.service.ext_proc.v3.ProcessingRequest');
  const Res = root.lookupType('envoy.service.ext_proc.v3.ProcessingResponse');
  const AlsMsg = root.lookupType('envoy.service.accesslog.v3.StreamAccessLogsMessage');
  const AlsRes = root.lookupType('envoy.service.accesslog.v3.StreamAccessLogsResponse');

  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_MESSAGE,
    'grpc.max_send_message_length': MAX_MESSAGE,
    'grpc.max_concurrent_streams': 100_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    // channelz keeps per-call counters and traces nobody reads here; it is on by default.
    'grpc.enable_channelz': 0,
  });

  // Envoy ends every finished ext_proc stream with RST_STREAM. Node's HTTP/2 rapid-reset guard
  // (streamResetBurst 1000, streamResetRate 33/s by default) reads one request per reset above 33
  // requests/s as an attack and tears the connection down, failing every stream on it. Envoy is
  // our only client here, on a local socket: lift the guard. grpc-js has no option for it, so the
  // server options it passes to http2.createServer are amended before the first bind.
  const http2Options = (server as unknown as { commonServerOptions?: Record<string, unknown> }).commonServerOptions;
  if (http2Options) {
    http2Options.streamResetBurst = 1_000_000_000;
    http2Options.streamResetRate = 1_000_000_000;
  }

  const extProcService: grpc.ServiceDefinition = {
    Process: {
      path: '/envoy.service.ext_proc.v3.ExternalProcessor/Process',
      requestStream: true,
      responseStream: true,
      requestSerialize: (m: ProcessingRequest) => Req.encode(m as never).finish() as Buffer,
      requestDeserialize: (b: Buffer) => Req.decode(b) as unknown as ProcessingRequest,
      // protobufjs' writer already yields a Buffer under Node: no copy.
      responseSerialize: (m: ProcessingResponse) => Res.encode(m as never).finish() as Buffer,
      responseDeserialize: (b: Buffer) => Res.decode(b) as unknown as ProcessingResponse,
    },
  };
  server.addService(extProcService, {
    Process: (call: grpc.ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => {
      const role = call.metadata.get(FILTER_ROLE_METADATA)[0] === 'upstream' ? 'upstream' : 'router';
      runProcessingStream(call, deps.createStreamHandler(role), deps.onError);
    },
  });

  const alsService: grpc.ServiceDefinition = {
    StreamAccessLogs: {
      path: '/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs',
      requestStream: true,
      responseStream: false,
      requestSerialize: (m: object) => Buffer.from(AlsMsg.encode(m as never).finish()),
      requestDeserialize: (b: Buffer) => AlsMsg.decode(b),
      responseSerialize: () => Buffer.from(AlsRes.encode({}).finish()),
      responseDeserialize: (b: Buffer) => AlsRes.decode(b),
    },
  };
  server.addService(alsService, {
    StreamAccessLogs: (call: grpc.ServerReadableStream<{ http_logs?: { log_entry?: unknown[] } }, object>, cb: grpc.sendUnaryData<object>) => {
      call.on('data', (msg) => {
        const entries = msg.http_logs?.log_entry;
        if (entries?.length && deps.onAccessLog) {
          try {
            deps.onAccessLog(entries);
          } catch (err) {
            deps.onError(err);
          }
        }
      });
      call.on('end', () => cb(null, {}));
      call.on('error', () => undefined);
    },
  });

  const health = new HealthImplementation({ '': 'NOT_SERVING', 'envoy.service.ext_proc.v3.ExternalProcessor': 'NOT_SERVING' });
  health.addToServer(server);

  return {
    server,
    async listen(addresses: string[]): Promise<string[]> {
      const bound: string[] = [];
      for (const address of addresses) {
        // A socket file left by a process that died would make bind fail with EADDRINUSE.
        if (address.startsWith('unix:')) {
          const file = address.slice('unix:'.length);
          mkdirSync(path.dirname(file), { recursive: true });
          rmSync(file, { force: true });
        }
        const port = await new Promise<number>((resolve, reject) =>
          server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
        );
        bound.push(address.startsWith('unix:') ? address : address.replace(/:0$/, `:${port}`));
      }
      health.setStatus('', 'SERVING');
      health.setStatus('envoy.service.ext_proc.v3.ExternalProcessor', 'SERVING');
      return bound;
    },
    /** Stop taking new streams, let in-flight ones finish (up to graceMs), then close. */
    async drain(graceMs: number): Promise<void> {
      health.setStatus('', 'NOT_SERVING');
      health.setStatus('envoy.service.ext_proc.v3.ExternalProcessor', 'NOT_SERVING');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
