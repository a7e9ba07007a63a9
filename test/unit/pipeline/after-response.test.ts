// Work after an answer runs on a later turn of the event loop, never before the caller returns;
// idle() waits for all of it, including work scheduled while it waits; failures are reported.
import { expect, test } from '@jest/globals';
import { AfterResponse } from '../../../extproc/pipeline/after-response.ts';

test('work runs after the current turn, idle() waits for chained work, errors go to onError', async () => {
  const errors: unknown[] = [];
  const after = new AfterResponse((err) => errors.push(err));
  const order: string[] = [];
  after.run(async () => {
    order.push('settle');
    after.run(async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('scheduled meanwhile');
    });
  });
  after.run(async () => {
    throw new Error('audit sink down');
  });
  order.push('answer returned');
  await after.idle();
  expect(order).toEqual(['answer returned', 'settle', 'scheduled meanwhile']);
  expect(errors).toHaveLength(1);
  expect((errors[0] as Error).message).toBe('audit sink down');
});
