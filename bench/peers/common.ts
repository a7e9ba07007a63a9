// What bench/run.ts needs from a peer gateway, and the start-up plumbing both launchers share
// (process-tree and group helpers: bench/lib/processes.ts).
import type { ChildProcess } from 'node:child_process';

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
