// Process plumbing the benchmarks share: a pid's process tree from /proc, liveness, and stopping
// a child or a whole process group (SIGTERM, then SIGKILL after a grace period).
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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

/** Whether a process with this pid exists (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `sig` to process group `pgid`; an empty or vanished group is not an error. */
export function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // group already empty
  }
}

/**
 * Stops a child started with `detached: true` (its own process group): SIGTERM to the group, then
 * SIGKILL to the group and to any descendant that left it, after `graceMs`.
 */
export async function stopGroup(child: ChildProcess, graceMs = 5000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const tree = processTree(pid);
  const signal = (sig: NodeJS.Signals) => {
    signalGroup(pid, sig);
    for (const p of tree) {
      try {
        process.kill(p, sig);
      } catch {
        // gone
      }
    }
  };
  if (!tree.some(isAlive)) return;
  signal('SIGTERM');
  const deadline = performance.now() + graceMs;
  while (performance.now() < deadline && tree.some(isAlive)) await new Promise((r) => setTimeout(r, 100));
  if (tree.some(isAlive)) signal('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
}

/** Stops one child: SIGTERM, SIGKILL after `graceMs`; resolves when it has exited. */
export function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
  });
}
