// Process entry of an ext_proc worker (forked by the supervisor).
import { parseArgs } from 'node:util';
import { runWorker } from './worker.ts';

const { values } = parseArgs({ options: { config: { type: 'string' }, worker: { type: 'string', default: '0' }, tcp: { type: 'string' } } });
if (!values.config) {
  console.error('usage: worker-main --config gateway.yaml [--worker N] [--tcp host:port]');
  process.exit(2);
}
runWorker({ configFile: values.config, workerIndex: Number(values.worker), ...(values.tcp ? { tcp: values.tcp } : {}) }).catch((err: unknown) => {
  console.error(`switchboard worker: ${(err as Error).message}`);
  process.exit(1);
});
