// Per-attempt outcomes from Envoy's access log service (the router's upstream_log): one entry per
// attempt, including the ones a retry replaced. They feed key cooldowns and target health off the
// hot path. Envoy logs the attempt's status, timing and request id but not which target or key our
// upstream filter chose, and nothing the filter sets reaches that log except headers that would
// travel to the provider. So the upstream filter writes each attempt into a journal by request id,
// and a log entry takes the next unlogged attempt of its request (Envoy logs attempts in order).

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

/** What Envoy's log says of one attempt, before it is joined with the journal. */
export interface LoggedAttempt {
  requestId: string;
  status: number;
  retryAfterSeconds?: number;
  latencyMs?: number;
}

interface Duration {
  seconds?: number | string;
  nanos?: number;
}

interface HttpAccessLogEntry {
  common_properties?: { time_to_first_upstream_rx_byte?: Duration };
  request?: { request_id?: string };
  response?: { response_code?: { value?: number }; response_headers?: Record<string, string> };
}

function millis(d: Duration | undefined): number | undefined {
  if (!d) return undefined;
  return Number(d.seconds ?? 0) * 1000 + (d.nanos ?? 0) / 1e6;
}

/** Retry-After as seconds: delta-seconds or an HTTP date (relative to `now`). */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  if (Number.isFinite(n) && n >= 0) return n;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}

export function loggedAttempts(entries: unknown[], now: number): LoggedAttempt[] {
  const out: LoggedAttempt[] = [];
  for (const raw of entries as HttpAccessLogEntry[]) {
    const requestId = raw.request?.request_id;
    if (!requestId) continue;
    const retryAfter = parseRetryAfter(raw.response?.response_headers?.['retry-after'], now);
    const latency = millis(raw.common_properties?.time_to_first_upstream_rx_byte);
    out.push({
      requestId,
      status: raw.response?.response_code?.value ?? 0,
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
      ...(latency !== undefined ? { latencyMs: latency } : {}),
    });
  }
  return out;
}

export interface JournalAttempt {
  provider: string;
  model: string;
  keyId?: string;
}

/** Attempts this process's upstream filter made, until Envoy's log accounts for them. */
export class AttemptJournal {
  private readonly byRequest = new Map<string, { attempts: JournalAttempt[]; at: number }>();
  private readonly ttlMs: number;

  constructor(ttlMs = 120_000) {
    this.ttlMs = ttlMs;
  }

  record(requestId: string, attempt: JournalAttempt, now: number): void {
    const entry = this.byRequest.get(requestId);
    if (entry) entry.attempts.push(attempt);
    else this.byRequest.set(requestId, { attempts: [attempt], at: now });
  }

  /** Joins a logged attempt with the journal; undefined when another process made it. */
  resolve(logged: LoggedAttempt): AttemptOutcome | undefined {
    const entry = this.byRequest.get(logged.requestId);
    const attempt = entry?.attempts.shift();
    if (!entry || !attempt) return undefined;
    if (entry.attempts.length === 0) this.byRequest.delete(logged.requestId);
    const { requestId: _id, ...rest } = logged;
    return { ...attempt, ...rest };
  }

  /** Drops attempts Envoy never logged (e.g. the access log stream was down). */
  sweep(now: number): void {
    for (const [id, entry] of this.byRequest) if (now - entry.at > this.ttlMs) this.byRequest.delete(id);
  }

  get size(): number {
    return this.byRequest.size;
  }
}
