// The journal that joins Envoy's per-attempt access log with the attempts Switchboard prepared.
import { AttemptJournal, loggedAttempts, TARGET_LOG_TAG } from '../../../extproc/pipeline/attempt-log.ts';

const a1 = { provider: 'alpha', model: 'm1', keyId: 'a1' };
const b1 = { provider: 'beta', model: 'm2', keyId: 'b1' };
const g1 = { provider: 'gamma', model: 'm3', keyId: 'g1' };

describe('AttemptJournal', () => {
  test('a logged attempt takes the prepared attempt with its target, whatever the order', () => {
    const j = new AttemptJournal();
    j.record('r', a1, 0);
    j.expect('r', [b1, g1], 0);
    expect(j.resolve({ requestId: 'r', target: 'gamma/m3', status: 200 })).toEqual({ ...g1, status: 200 });
    expect(j.resolve({ requestId: 'r', target: 'alpha/m1', status: 500 })).toEqual({ ...a1, status: 500 });
    expect(j.size).toBe(1); // beta's candidate is still open
    expect(j.resolve({ requestId: 'r', target: 'beta/m2', status: 429, retryAfterSeconds: 3 })).toEqual({ ...b1, status: 429, retryAfterSeconds: 3 });
    expect(j.size).toBe(0);
  });

  test('an attempt another process made, or to a target nobody prepared, is not ours', () => {
    const j = new AttemptJournal();
    j.record('r', a1, 0);
    expect(j.resolve({ requestId: 'other', target: 'alpha/m1', status: 200 })).toBeUndefined();
    expect(j.resolve({ requestId: 'r', target: 'delta/m9', status: 200 })).toBeUndefined();
  });

  test('without a target in the log, attempts are taken in the order they were recorded', () => {
    const j = new AttemptJournal();
    j.record('r', a1, 0);
    j.record('r', b1, 0);
    expect(j.resolve({ requestId: 'r', status: 500 })?.provider).toBe('alpha');
    expect(j.resolve({ requestId: 'r', status: 200 })?.provider).toBe('beta');
  });

  test('unused candidates go a grace period after their request finished; unfinished ones by TTL', () => {
    const j = new AttemptJournal(120_000, 5_000);
    j.record('done', a1, 0);
    j.expect('done', [b1], 0);
    j.record('open', a1, 0);
    expect(j.resolve({ requestId: 'done', target: 'alpha/m1', status: 200 })).toBeDefined();
    j.finish('done', 1_000);
    j.sweep(5_999);
    expect(j.size).toBe(2);
    j.sweep(6_001);
    expect(j.size).toBe(1);
    j.sweep(120_001);
    expect(j.size).toBe(0);
  });
});

test("loggedAttempts reads the target from the access log's custom tag", () => {
  const entries = [
    {
      common_properties: { custom_tags: { [TARGET_LOG_TAG]: 'beta/m2' }, time_to_first_upstream_rx_byte: { seconds: 0, nanos: 25_000_000 } },
      request: { request_id: 'r' },
      response: { response_code: { value: 429 }, response_headers: { 'retry-after': '7' } },
    },
    { request: { request_id: 'q' }, response: { response_code: { value: 200 } } },
    { response: { response_code: { value: 200 } } },
  ];
  expect(loggedAttempts(entries, 0)).toEqual([
    { requestId: 'r', target: 'beta/m2', status: 429, retryAfterSeconds: 7, latencyMs: 25 },
    { requestId: 'q', status: 200 },
  ]);
});
