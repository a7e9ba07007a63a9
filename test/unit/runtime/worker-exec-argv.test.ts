// Workers are forked with a capped young generation unless the operator already chose one.
import { workerExecArgv } from '../../../extproc/runtime/supervisor.ts';

test('adds --max-semi-space-size to the inherited flags', () => {
  expect(workerExecArgv(['--enable-source-maps'], '')).toEqual(['--enable-source-maps', '--max-semi-space-size=8']);
});

test('an explicit choice on the command line or in NODE_OPTIONS wins', () => {
  expect(workerExecArgv(['--max-semi-space-size=32'], '')).toEqual(['--max-semi-space-size=32']);
  expect(workerExecArgv([], '--max-old-space-size=768 --max-semi-space-size=2')).toEqual([]);
});
