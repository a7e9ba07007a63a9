// Where the gateway listens and how hard it may be pushed: the `server:` section.
import { z } from 'zod';

const hostPort = (port: number) => z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(port) });

export const serverSchema = z
  .strictObject({
    /** The public listener (Envoy). */
    listener: hostPort(8080).prefault({}),
    /** Switchboard's admin API and /metrics: never reachable through the public listener. */
    admin: hostPort(8081).prefault({}),
    /** Envoy's own admin interface. */
    envoyAdmin: hostPort(9901).prefault({}),
    /** Node processes serving ext_proc; each is one endpoint of Envoy's ext_proc cluster. */
    workers: z.number().int().min(1).max(64).default(1),
    /** Directory for sockets, the generated bootstrap and local state. */
    stateDir: z.string().default('.state'),
    maxRequestBytes: z.number().int().positive().default(32 * 1024 * 1024),
    messageTimeoutMs: z.number().int().positive().default(5_000),
    requestTimeoutMs: z.number().int().positive().default(600_000),
    streamIdleTimeoutMs: z.number().int().positive().default(300_000),
    caFile: z.string().default('/etc/ssl/certs/ca-certificates.crt'),
    drainTimeoutMs: z.number().int().positive().default(30_000),
    /**
     * true (standalone, the generated bootstrap): each worker has its own chain clusters, so the
     * upstream filter always reaches the process that decided the request; that process then
     * prepares attempt 1 itself and Envoy skips the upstream filter for it (one ext_proc stream
     * less per request). false (a mesh with several pods behind one Service): every attempt is
     * translated by the upstream filter, rebuilding the request from its body when it lands on
     * another pod. Must match how the Envoy config was generated.
     */
    upstreamAffinity: z.boolean().default(true),
    /**
     * With upstreamAffinity: the next `steps` fallback steps are translated with attempt 1 and
     * handed to Envoy, whose Lua upstream filter applies one on a retry without a round trip here
     * (a fallback then costs ~0.1 ms over Envoy's own retry instead of ~1 ms). Costs ~50 µs of
     * worker CPU per prepared step on every request with a fallback (4 KB body,
     * bench/prepared-fallbacks.ts); 1 covers the first fallback, raise it for chains where double
     * failures matter; 0 leaves every retry to the upstream ext_proc filter. Translated bodies
     * over maxBodyBytes are left to it too.
     */
    preparedFallbacks: z
      .strictObject({
        steps: z.number().int().min(0).max(8).default(1),
        maxBodyBytes: z.number().int().min(0).default(1024 * 1024),
      })
      .prefault({}),
    /**
     * Refuse new requests (503 overloaded, Retry-After: 1) while the worker's event-loop delay
     * (p99 over 250 ms) exceeds this; 0 = never. Off by default: on a host whose CPU is shared
     * with noisy neighbours, scheduling delay reads as overload. 200-300 suits a dedicated core.
     */
    shedLoadAtEventLoopDelayMs: z.number().int().min(0).default(0),
  })
  .prefault({});

export type ServerConfig = z.infer<typeof serverSchema>;
