// One ext_proc worker process: loads gateway.yaml, serves the router-level and upstream filters
// on its own Unix socket, reloads on the supervisor's word, drains on SIGTERM.
import path from 'node:path';
import { pino } from 'pino';
import { loadConfigFile } from '../config/load.ts';
import { createGrpcServer } from '../server/grpc-server.ts';
import { createMetrics } from '../telemetry/metrics.ts';
import { workerSocket } from '../../envoy/plan.ts';
import { Runtime } from './runtime.ts';
import { loggedAttempts, type LoggedAttempt } from '../pipeline/attempt-log.ts';
import { createAuditSink } from '../audit/index.ts';
import { createGuardrails } from '../guardrails/index.ts';
import { startAdminServer, type AdminServer } from '../admin/server.ts';
import { answerMetricsCollection, gatewayMetrics } from '../admin/cluster-metrics.ts';
import { keyHashSecretFromEnv } from '../auth/virtual-key.ts';

export interface WorkerOptions {
  configFile: string;
  workerIndex: number;
  /** Extra listen address (host:port) beside the worker's socket, e.g. for ghz benchmarks. */
  tcp?: string;
}

export async function runWorker(opts: WorkerOptions): Promise<void> {
  const log = pino({ name: 'switchboard', base: { pid: process.pid, worker: opts.workerIndex } });
  const config = loadConfigFile(opts.configFile);
  const metrics = createMetrics();
  const clock = { now: () => Date.now() };
  // Relative audit directories live under the state directory, beside the rest of the gateway's files.
  const auditDir = path.isAbsolute(config.audit.dir) ? config.audit.dir : path.resolve(config.server.stateDir, path.relative('.state', config.audit.dir));
  const audit = await createAuditSink({ ...config.audit, dir: auditDir }, { instance: `w${opts.workerIndex}`, log, clock });
  const runtime = await Runtime.create(config, {
    workerIndex: opts.workerIndex,
    log,
    metrics,
    clock,
    env: process.env,
    guardrailsFor: (cfg) => createGuardrails(cfg.guardrails, { log, metrics: metrics.registry }),
    audit,
  });
  const server = createGrpcServer({
    createStreamHandler: (role) => runtime.createStreamHandler(role),
    onAccessLog: (entries) => {
      const foreign = runtime.observeLogged(loggedAttempts(entries, clock.now()));
      // Attempts made by a sibling worker: the supervisor relays them to it.
      if (foreign.length) process.send?.({ type: 'attempts', logged: foreign });
    },
    onError: (err) => log.error({ err }, 'ext_proc stream failed'),
  });
  const addresses = [workerSocket(config.server.stateDir, opts.workerIndex), ...(opts.tcp ? [opts.tcp] : [])];
  await runtime.warmUp();
  const bound = await server.listen(addresses);
  log.info({ addresses: bound }, 'ext_proc worker listening');
  answerMetricsCollection(metrics.registry);
  // The admin API lives in worker 0: it holds a Runtime and its store (the one store with the
  // in-memory state, which allows only one worker; with Redis every worker sees the same state).
  let admin: AdminServer | undefined;
  if (opts.workerIndex === 0) {
    admin = await startAdminServer({
      host: config.server.admin.host,
      port: config.server.admin.port,
      service: runtime.createAdminService(),
      admins: () => runtime.config.admins,
      secret: keyHashSecretFromEnv(process.env),
      metrics: () => gatewayMetrics(metrics.registry),
      log,
    });
    log.info({ address: admin.address }, 'admin API and /metrics listening');
  }
  process.send?.({ type: 'ready', worker: opts.workerIndex });

  process.on('message', (msg: { type?: string; logged?: LoggedAttempt[] }) => {
    if (msg?.type === 'attempts') {
      runtime.observeLogged(msg.logged ?? []);
      return;
    }
    if (msg?.type !== 'reload') return;
    try {
      runtime.reload(loadConfigFile(opts.configFile));
      process.send?.({ type: 'reloaded', worker: opts.workerIndex });
    } catch (err) {
      log.error({ err: (err as Error).message }, 'reload rejected; keeping the running configuration');
    }
  });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log.info('draining');
    await admin?.close();
    await server.drain(config.server.drainTimeoutMs);
    await runtime.afterResponse.idle(); // the last answers' settling and audit records
    await audit.close();
    await runtime.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  // Forked by a supervisor that died without stopping us (SIGKILL, crash): do not live on as an orphan.
  if (process.send) process.once('disconnect', () => void stop());
  process.once('SIGINT', () => void stop());
}
