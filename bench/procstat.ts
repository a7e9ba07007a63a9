// /proc readers for the benchmark: CPU time and peak RSS of one process, whole-machine CPU.
import { readFileSync, writeFileSync } from 'node:fs';

export const CLK_TCK = 100; // getconf CLK_TCK on Linux x86-64

/** utime + stime of a process, in seconds (0 if it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces and parentheses.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15 of proc(5)
  } catch {
    return 0;
  }
}

function statusKb(pid: number, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Peak resident set size (VmHWM) in MiB. */
export const peakRssMiB = (pid: number) => Math.round((statusKb(pid, 'VmHWM') / 1024) * 10) / 10;
export const rssMiB = (pid: number) => Math.round((statusKb(pid, 'VmRSS') / 1024) * 10) / 10;

/** Resets VmHWM to the current RSS (proc(5), clear_refs "5"); false if the kernel refuses. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Busy and total jiffies of the whole machine (all CPUs), from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}
