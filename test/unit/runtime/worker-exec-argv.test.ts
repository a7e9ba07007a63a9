// Workers are forked with a capped young generation and two malloc arenas unless the operator already chose otherwise.
import { workerEnv, workerExecArgv } from '../../../extproc/runtime/supervisor.ts';

test('adds --max-semi-space-size to the inherited flags', () => {
  expect(workerExecArgv(['--enable-source-maps'], '')).toEqual(['--enable-source-maps', '--max-semi-space-size=8']);
});

test('an explicit choice on the command line or in NODE_OPTIONS wins', () => {
  expect(workerExecArgv(['--max-semi-space-size=32'], '')).toEqual(['--max-semi-space-size=32']);
  expect(workerExecArgv([], '--max-old-space-size=768 --max-semi-space-size=2')).toEqual([]);
});

test('two malloc arenas unless the environment says otherwise', () => {
  expect(workerEnv({ A: '1' })).toEqual({ MALLOC_ARENA_MAX: '2', A: '1' });
  expect(workerEnv({ MALLOC_ARENA_MAX: '4' }).MALLOC_ARENA_MAX).toBe('4');
});
