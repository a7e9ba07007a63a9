// Redis dies under load and comes back (a crash: SIGKILL, then a restart from its append-only
// file, fsynced on every write, so no acknowledged write is lost). While it is gone, requests of a
// key with a budget fail closed (503 budget_unavailable) and the metrics say so; in-flight settles
// are retried once it is back; afterwards spend equals exactly the requests that were answered:
// nothing lost, nothing counted twice, no reservation left pending.
import { Redis } from 'ioredis';
import { createOpenAISimulator } from '../simulators/openai.ts';
import type { SimulatedServer } from '../simulators/recorder.ts';
import { newVirtualKey, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startRedis, type RedisServer } from '../helpers/redis.ts';
import { admin, chat, COST_PER_REQUEST, errorCode, metrics, metricValue, pricedConfig, sleep, TEN_WORDS, within, type Reply } from '../helpers/governance.ts';

let sim: SimulatedServer;
let redis: RedisServer;
let gw: TestGateway;
const rootAdmin = newVirtualKey();
const budgeted = newVirtualKey();

beforeAll(async () => {
  sim = await createOpenAISimulator().start();
  redis = await startRedis({ persist: true });
  gw = await startTestGateway(
    `${pricedConfig(sim.url)}
virtualKeys:
  - { id: budgeted, name: Budgeted, hash: ${budgeted.hash}, budgets: [{ window: daily, limitUsd: 1000 }] }
admins:
  - { id: root, hash: ${rootAdmin.hash}, scopes: [global] }
state: { type: redis, url: "${redis.url}", replicas: 3, commandTimeoutMs: 500 }
`,
    { env: { SIM_OPENAI_KEY: 'sk-sim' }, workers: 3 },
  );
});

afterAll(async () => {
  await gw?.stop();
  await redis?.stop();
  await sim?.stop();
});

test('Redis killed under load: budgets fail closed with the metric raised; after it returns nothing is double counted', async () => {
  sim.defaultBehaviour = { text: TEN_WORDS, delayMs: 100 };
  const before = await metrics(gw);
  const replies: { at: number; reply: Reply }[] = [];
  let running = true;
  const loops = Array.from({ length: 12 }, async () => {
    while (running) {
      const reply = await chat(gw.url, budgeted.key);
      replies.push({ at: Date.now(), reply });
    }
  });

  await sleep(1500);
  const killedAt = Date.now();
  await redis.kill();
  await sleep(2500);
  const restartedAt = Date.now();
  await redis.restart();
  // Load continues until requests succeed again for a while.
  await within(15_000, async () => replies.filter((r) => r.at > restartedAt && r.reply.status === 200).length >= 20, 'requests succeed after Redis returned');
  running = false;
  await Promise.all(loops);

  const ok = replies.filter((r) => r.reply.status === 200);
  const failed = replies.filter((r) => r.reply.status !== 200);
  for (const { reply } of failed) {
    expect(reply.status).toBe(503);
    expect(errorCode(reply)).toBe('budget_unavailable');
    expect(reply.headers.get('retry-after')).toBe('1');
  }
  const duringOutage = failed.filter((r) => r.at > killedAt && r.at < restartedAt + 1000);
  expect(duringOutage.length).toBeGreaterThan(0);
  expect(ok.filter((r) => r.at < killedAt).length).toBeGreaterThan(0);

  const after = await metrics(gw);
  const failClosed = metricValue(after, 'switchboard_budget_fail_closed_total') - metricValue(before, 'switchboard_budget_fail_closed_total');
  expect(failClosed).toBe(failed.length); // one per refused request, summed over the 3 workers
  expect(metricValue(after, 'switchboard_state_store_unavailable_total', { operation: 'reserve' })).toBeGreaterThanOrEqual(failed.length);

  // Deferred settles and releases are retried every second; wait until none is pending.
  const client = new Redis(redis.url);
  try {
    let report: { budgets: { spentMicros: number; reservedMicros: number }[]; ledger: { requests: number; micros: number } } | undefined;
    await within(10_000, async () => {
      const r = await admin(gw, rootAdmin.key, 'GET', '/admin/spend/key/budgeted');
      report = r.json as typeof report;
      return r.status === 200 && report!.budgets[0]!.reservedMicros === 0 && (await client.zcard('{sb:k:budgeted}:pending')) === 0 && report!.ledger.requests === ok.length;
    }, 'every reservation settled or released');
    const spent = report!.budgets[0]!.spentMicros;
    expect(spent).toBe(ok.length * COST_PER_REQUEST);
    expect(report!.ledger.micros).toBe(spent);
    const ledger = await client.xrange('{sb:k:budgeted}:ledger', '-', '+');
    const ids = ledger.map(([, fields]) => (JSON.parse(fields[1]!) as { requestId: string }).requestId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(ok.map((r) => r.reply.headers.get('x-sb-request-id'))));
    console.log(`redis outage: ${replies.length} requests, ${ok.length} answered (${ok.filter((r) => r.at > killedAt && r.at < restartedAt).length} while Redis was down: settled on its return), ${failed.length} failed closed (${duringOutage.length} during the outage), fail-closed metric +${failClosed}; spent ${spent} = ${ok.length} x ${COST_PER_REQUEST}, ledger ${ids.length} unique entries`);
  } finally {
    client.disconnect();
  }
});
