/**
 * Which code a benchmark ran, for its results file.
 */
import { execFileSync } from 'node:child_process';

/**
 * The commit checked out in `root`, and the files changed outside bench/ that were not committed yet (the dist that
 * ran includes them). `unknown` and none when git cannot tell.
 */
export function codeVersion(root: string): { commit: string; uncommittedOutsideBench: string[] } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: root })
      .toString()
      .split('\n')
      .map((l) => l.slice(3))
      .filter((f) => f && !f.startsWith('bench/') && f !== 'package-lock.json');
    return { commit, uncommittedOutsideBench: dirty };
  } catch {
    return { commit: 'unknown', uncommittedOutsideBench: [] };
  }
}
