// Small shell helpers for the benchmarks' run descriptions (machine, versions, commit).
import { execSync } from 'node:child_process';

/** A command's trimmed stdout, or '?' when it fails. */
export function sh(cmd: string): string {
  try {
    return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '?';
  }
}

/**
 * Tracked files that differ from HEAD in the checkout at `repoRoot` (others edit the same
 * checkout), or ['?']. Not through sh(): its trim() would eat the first line's leading status column.
 */
export function gitChanged(repoRoot: string): string[] {
  try {
    const out = execSync(`git -C ${repoRoot} status --porcelain --untracked-files=no`, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').filter(Boolean).map((l) => l.slice(3));
  } catch {
    return ['?'];
  }
}
