// Per-attempt outcomes from Envoy's access log service (the router's upstream_log): one entry per
// attempt, including the ones a retry replaced. They feed key cooldowns and target health off the
// hot path. The upstream filter tags each attempt's request with its target and key id.

export const ATTEMPT_TARGET_HEADER = 'x-sb-attempt-target';
export const ATTEMPT_KEY_HEADER = 'x-sb-upstream-key';

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
  common_properties?: { time_to_first_upstream_rx_byte?: Duration; time_to_last_upstream_rx_byte?: Duration };
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
    const target = raw.request?.request_headers?.[ATTEMPT_TARGET_HEADER];
    if (!target) continue; // the attempt never reached our upstream filter
    const i = target.indexOf('/');
    if (i < 0) continue;
    const keyId = raw.request?.request_headers?.[ATTEMPT_KEY_HEADER];
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
