// failure_mode_allow is false: with Switchboard gone, Envoy rejects and the provider sees nothing.
import { createOpenAISimulator } from '../simulators/openai.ts';
import type { SimulatedServer } from '../simulators/recorder.ts';
import { newVirtualKey, startTestGateway, type TestGateway } from '../helpers/gateway.ts';


let sim: SimulatedServer;
let gw: TestGateway;
const vk = newVirtualKey();

beforeAll(async () => {
  sim = await createOpenAISimulator().start();
  gw = await startTestGateway(`
providers:
  openai: { type: openai, baseUrl: ${sim.url}, keys: [{ id: main, secret: { env: SIM_OPENAI_KEY } }] }
models:
  gpt-4o-mini: { targets: [{ provider: openai, model: gpt-4o-mini }] }
virtualKeys:
  - { id: full, name: Full, hash: ${vk.hash} }
`, { env: { SIM_OPENAI_KEY: 'sk-provider' } });
});

afterAll(async () => {
  await gw?.stop();
  await sim?.stop();
});

test('Switchboard stopped while Envoy runs -> 5xx, the upstream sees nothing', async () => {
  const send = () => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${vk.key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) });
  expect((await send()).status).toBe(200);
  sim.reset();
  for (const w of gw.gw.workers) {
    const exited = new Promise((r) => w.once('exit', r));
    w.kill('SIGKILL');
    await exited;
  }
  const res = await send();
  expect(res.status).toBeGreaterThanOrEqual(500);
  expect(sim.requests).toHaveLength(0);
});
