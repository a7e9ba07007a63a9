// Per-attempt outcomes from Envoy's access log service (the router's upstream_log): one entry per
// attempt, including the ones a retry replaced. They feed key cooldowns and target health off the
// hot path. Envoy logs the attempt's status, timing, request id and (a custom tag read from the
// endpoint's metadata) its target, but not which key was used. So every attempt Switchboard
// prepares goes into a journal by request id, and a log entry takes its request's attempt with
// the same target. Fallbacks prepared up front (applied by Envoy without asking us) are journal
// candidates: they count only if Envoy logs an attempt to their target.

import { targetKey } from '../routing/target.ts';

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
  /** provider/model of the endpoint, from the `sb_target` custom tag. */
  target?: string;
  status: number;
  retryAfterSeconds?: number;
  latencyMs?: number;
}

interface Duration {
  seconds?: number | string;
  nanos?: number;
}

/** The access log's custom tag that carries the endpoint's switchboard.target metadata. */
export const TARGET_LOG_TAG = 'sb_target';

interface HttpAccessLogEntry {
  common_properties?: { time_to_first_upstream_rx_byte?: Duration; custom_tags?: Record<string, string> };
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
    const target = raw.common_properties?.custom_tags?.[TARGET_LOG_TAG];
    out.push({
      requestId,
      ...(target ? { target } : {}),
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

interface JournalEntry {
  /** Attempts Switchboard sent on their way, in order. */
  attempts: JournalAttempt[];
  /** Prepared fallbacks: attempts only if Envoy logs one to their target. */
  candidates: JournalAttempt[];
  at: number;
  finishedAt?: number;
}

/** Attempts this process prepared, until Envoy's log accounts for them. */
export class AttemptJournal {
  private readonly byRequest = new Map<string, JournalEntry>();
  private readonly ttlMs: number;
  private readonly graceMs: number;

  /**
   * `ttlMs` bounds an entry whose request never finished here; `graceMs` is how long after its
   * request finished Envoy's log (flushed every 200 ms) may still bring an attempt.
   */
  constructor(ttlMs = 120_000, graceMs = 5_000) {
    this.ttlMs = ttlMs;
    this.graceMs = graceMs;
  }

  private entry(requestId: string, now: number): JournalEntry {
    let entry = this.byRequest.get(requestId);
    if (!entry) this.byRequest.set(requestId, (entry = { attempts: [], candidates: [], at: now }));
    return entry;
  }

  record(requestId: string, attempt: JournalAttempt, now: number): void {
    this.entry(requestId, now).attempts.push(attempt);
  }

  /** Fallbacks prepared up front: Envoy may send any of them without asking this process. */
  expect(requestId: string, candidates: JournalAttempt[], now: number): void {
    if (candidates.length) this.entry(requestId, now).candidates.push(...candidates);
  }

  /** The request has ended: what Envoy has not logged within the grace period never happened. */
  finish(requestId: string, now: number): void {
    const entry = this.byRequest.get(requestId);
    if (entry) entry.finishedAt = now;
  }

  /** Joins a logged attempt with the journal; undefined when another process made it. */
  resolve(logged: LoggedAttempt): AttemptOutcome | undefined {
    const entry = this.byRequest.get(logged.requestId);
    if (!entry) return undefined;
    let attempt: JournalAttempt | undefined;
    if (logged.target === undefined) attempt = entry.attempts.shift();
    else {
      const i = entry.attempts.findIndex((a) => targetKey(a) === logged.target);
      if (i >= 0) attempt = entry.attempts.splice(i, 1)[0];
      else {
        const j = entry.candidates.findIndex((a) => targetKey(a) === logged.target);
        if (j >= 0) attempt = entry.candidates.splice(j, 1)[0];
      }
    }
    if (!attempt) return undefined;
    if (entry.attempts.length === 0 && entry.candidates.length === 0) this.byRequest.delete(logged.requestId);
    const { requestId: _id, target: _target, ...rest } = logged;
    return { ...attempt, ...rest };
  }

  /** Drops attempts Envoy never logged (the access log stream was down, or a candidate unused). */
  sweep(now: number): void {
    for (const [id, entry] of this.byRequest) {
      if (now - entry.at > this.ttlMs || (entry.finishedAt !== undefined && now - entry.finishedAt > this.graceMs)) this.byRequest.delete(id);
    }
  }

  get size(): number {
    return this.byRequest.size;
  }
}
