// Load shedding follows the event loop's delay: a blocked loop turns it on, a free one off.
import { startOverloadGuard } from '../../../extproc/runtime/overload.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function blockFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy: the event loop cannot run timers meanwhile
  }
}

test('a stalled event loop trips the guard and a free one releases it', async () => {
  const guard = startOverloadGuard(100, 200);
  try {
    await sleep(450);
    expect(guard.overloaded()).toBe(false);
    // Stalls across a whole window: the window's p99 delay is the stall.
    for (let i = 0; i < 4; i++) {
      blockFor(150);
      await sleep(10);
    }
    // The window holding the last stall is judged at the next tick of the guard's interval (which
    // other load on the machine can delay): poll for it rather than guess when it lands.
    let tripped = false;
    for (let waited = 0; waited < 1_000 && !tripped; waited += 10) {
      tripped = guard.overloaded();
      if (!tripped) await sleep(10);
    }
    expect(guard.lastDelayMs()).toBeGreaterThan(100);
    expect(tripped).toBe(true);
    await sleep(500);
    expect(guard.overloaded()).toBe(false);
  } finally {
    guard.stop();
  }
});

test('a threshold of 0 never sheds', () => {
  const guard = startOverloadGuard(0);
  blockFor(50);
  expect(guard.overloaded()).toBe(false);
  guard.stop();
});
