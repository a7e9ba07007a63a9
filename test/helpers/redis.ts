// Starts a throwaway redis-server on a free 127.0.0.1 port for one test file:
//   const redis = await startRedis(); ... afterAll(() => redis.stop());
// No persistence (--save '' --appendonly no) unless `persist`: then an append-only file fsynced on
// every write, so kill() + restart() is a crash that loses no acknowledged write.
// pause()/resume() freeze the process (SIGSTOP/SIGCONT) to simulate a network partition where
// commands hang; kill()/restart() simulate a crash.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface RedisServer {
  port: number;
  url: string;
  /** SIGSTOP: the server keeps its socket but answers nothing, like a partition. */
  pause(): void;
  resume(): void;
  /** SIGKILL: the server is gone, and its data with it unless started with `persist`. */
  kill(): Promise<void>;
  /** Starts a fresh server on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sends PING over a raw socket until +PONG arrives or `timeoutMs` passes. */
async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let reply = '';
      socket.setTimeout(500);
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk) => {
        reply += chunk.toString();
        if (reply.includes('\r\n')) {
          socket.destroy();
          resolve(reply.startsWith('+PONG'));
        }
      });
      socket.on('timeout', () => {
        socket.destroy();
        resolve(false);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function spawnRedis(port: number, dir: string | undefined): ChildProcess {
  const persistence = dir ? ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir] : ['--appendonly', 'no'];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], {
    stdio: 'ignore',
  });
  child.on('error', (error) => {
    throw new Error(`could not start redis-server (is it installed?): ${error.message}`);
  });
  return child;
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT'); // a paused server cannot die of SIGKILL until the kernel reaps it; be explicit
  child.kill('SIGKILL');
  await exited;
}

export async function startRedis(opts: { persist?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = opts.persist ? mkdtempSync(path.join(os.tmpdir(), 'sb-redis-')) : undefined;
  let child = spawnRedis(port, dir);
  await waitForPing(port, 10_000);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    kill: () => killChild(child),
    restart: async () => {
      await killChild(child);
      child = spawnRedis(port, dir);
      await waitForPing(port, 10_000);
    },
    stop: async () => {
      await killChild(child);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
