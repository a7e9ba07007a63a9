// What bench/run.ts needs from a peer gateway, and the process plumbing both launchers share.
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

export interface PeerGateway {
  /** Scenario system name in the results: `p-litellm`, `p-portkey`. */
  system: string;
  /** For tables and the plot: product and version. */
  label: string;
  version: string;
  url: string;
  path: string;
  /** Headers the peer needs on each request (its auth, its provider routing); the body is the bench's. */
  headers: Record<string, string>;
  /** The settings used, for the results file. */
  settings: Record<string, unknown>;
  /** Root pid; rootPid's whole process tree is measured (LiteLLM forks its workers). */
  rootPid: number;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (released again before the peer binds it: a small race, loopback only). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** pid and all its descendants, from /proc (ppid is field 4 of /proc/<pid>/stat). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Stops a peer started with `detached: true` (its own process group): SIGTERM to the group, then
 * SIGKILL to the group and to any descendant that left it, after `graceMs`.
 */
export async function stopGroup(child: ChildProcess, graceMs = 5000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const tree = processTree(pid);
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // group gone
    }
    for (const p of tree) {
      try {
        process.kill(p, sig);
      } catch {
        // gone
      }
    }
  };
  if (!tree.some(alive)) return;
  signal('SIGTERM');
  const deadline = performance.now() + graceMs;
  while (performance.now() < deadline && tree.some(alive)) await new Promise((r) => setTimeout(r, 100));
  if (tree.some(alive)) signal('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
}

/** Polls `check` until it resolves true; rejects after `timeoutMs` or when the child exits first. */
export async function waitReady(child: ChildProcess, what: string, timeoutMs: number, check: () => Promise<boolean>, output: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited during start-up (${child.exitCode ?? child.signalCode}):\n${output()}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s:\n${output()}`);
}

/** Keeps the last `max` characters a child wrote, for start-up errors. */
export function tail(child: ChildProcess, max = 8000): () => string {
  let buf = '';
  const add = (d: Buffer) => {
    buf = (buf + d.toString('utf8')).slice(-max);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => buf;
}

/**
 * Sends the bench's request once and checks that the answer is the simulator's: a 200 whose body
 * carries the simulator's fixed completion text (so the peer really forwarded to it).
 */
export async function verifyForwarding(peer: Pick<PeerGateway, 'system' | 'url' | 'path' | 'headers'>, body: string, expectText: string): Promise<void> {
  const r = await fetch(`${peer.url}${peer.path}`, { method: 'POST', headers: { ...peer.headers, 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(30_000) });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${peer.system} answered ${r.status}: ${text.slice(0, 600)}`);
  let content: unknown;
  try {
    content = (JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content;
  } catch {
    // not JSON
  }
  if (content !== expectText) throw new Error(`${peer.system} answered 200 but not with the simulator's completion: ${text.slice(0, 600)}`);
}
