// Per-attempt outcomes from Envoy's access log service (the router's upstream_log): one entry per
// attempt, including the ones a retry replaced. They feed key cooldowns and target health off the
// hot path. The upstream filter tags each attempt with its target and key id as dynamic metadata,
// which Envoy logs with the attempt (no header has to travel to the provider for it).
import type { ProtoStruct } from '../server/messages.ts';

const EXT_PROC_NAMESPACE = 'envoy.filters.http.ext_proc';

export function attemptMetadata(target: string, keyId: string): ProtoStruct {
  return { fields: { sb_target: { stringValue: target }, ...(keyId ? { sb_key: { stringValue: keyId } } : {}) } };
}

export interface AttemptOutcome {
  provider: string;
  model: string;
  keyId?: string;
  /** 0 when no response came (reset, connect failure, timeout). */
  status: number;
  retryAfterSeconds?: number;
  /** Time to the first upstream byte, when there was one. */
  latencyMs?: number;
}

interface Duration {
  seconds?: number | { toNumber(): number };
  nanos?: number;
}

interface HttpAccessLogEntry {
  common_properties?: { time_to_first_upstream_rx_byte?: Duration; metadata?: { filter_metadata?: Record<string, ProtoStruct> } };
  request?: { request_headers?: Record<string, string> };
  response?: { response_code?: { value?: number }; response_headers?: Record<string, string> };
}

function millis(d: Duration | undefined): number | undefined {
  if (!d) return undefined;
  const s = typeof d.seconds === 'object' && d.seconds ? d.seconds.toNumber() : Number(d.seconds ?? 0);
  return s * 1000 + (d.nanos ?? 0) / 1e6;
}

/** Retry-After as seconds: delta-seconds or an HTTP date (relative to `now`). */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  if (Number.isFinite(n) && n >= 0) return n;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

export function attemptOutcomes(entries: unknown[], now: number): AttemptOutcome[] {
  const out: AttemptOutcome[] = [];
  for (const raw of entries as HttpAccessLogEntry[]) {
    const fields = raw.common_properties?.metadata?.filter_metadata?.[EXT_PROC_NAMESPACE]?.fields;
    const target = fields?.sb_target?.stringValue;
    if (!target) continue; // the attempt never reached our upstream filter
    const i = target.indexOf('/');
    if (i < 0) continue;
    const keyId = fields?.sb_key?.stringValue;
    const retryAfter = parseRetryAfter(raw.response?.response_headers?.['retry-after'], now);
    const latency = millis(raw.common_properties?.time_to_first_upstream_rx_byte);
    out.push({
      provider: target.slice(0, i),
      model: target.slice(i + 1),
      ...(keyId ? { keyId } : {}),
      status: raw.response?.response_code?.value ?? 0,
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
      ...(latency !== undefined ? { latencyMs: latency } : {}),
    });
  }
  return out;
}
