/**
 * Small process helpers shared by the launcher (Linux /proc, proc(5)): is a pid still running, is it ours, stop a
 * set of pids gracefully.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';

/**
 * True when `pid` names a process that still runs: it exists (`kill(pid, 0)`) and, where /proc exists, is not a
 * zombie (state `Z` in `/proc/<pid>/stat`, proc(5)): a zombie has exited and only waits for its parent to reap it,
 * which never happens where PID 1 does not reap (some containers).
 */
export function isRunning(pid: number): boolean {
  // 0 and negative pids name process groups for kill(2): never ours to test or signal.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    // gone, or another user's (EPERM): not one we could stop or wait for
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state …": comm may hold spaces and parentheses, so the state follows the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return !existsSync('/proc');
  }
}

/** What makes a pid "ours" for {@link isOwnProcess}: every given test must hold. */
export interface OwnProcessCheck {
  /** Strings that must all occur in the command line (`/proc/<pid>/cmdline`, arguments joined by a space). */
  cmdlineIncludes?: string[];
  /** Directory the process's working directory (`/proc/<pid>/cwd`) must be in (both resolved through symlinks). */
  cwdUnder?: string;
}

/**
 * True when `pid` is a running process ({@link isRunning}) that passes `check`, read from /proc (proc(5)). Used
 * before signalling a pid read from a pid file: after a reboot or a crash the kernel may have given that pid to
 * anything. False when /proc cannot tell (no /proc, or another user's process): never signal what we cannot
 * identify.
 */
export function isOwnProcess(pid: number, check: OwnProcessCheck): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return false;
  try {
    if (check.cmdlineIncludes) {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (!check.cmdlineIncludes.every((s) => cmdline.includes(s))) return false;
    }
    if (check.cwdUnder !== undefined && !realpathSync(`/proc/${pid}/cwd`).startsWith(realpathSync(check.cwdUnder))) return false;
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM to each running pid of `all` ({@link isRunning}: never a process group), SIGKILL to those still running after `graceMs`; resolves when all are gone (exited or
 * zombies, {@link isRunning}) or `killWaitMs` after the SIGKILL, whichever comes first (a process in uninterruptible
 * sleep can outlive SIGKILL for a while: the caller is not held forever).
 * @returns the pids still running at the end ([] normally).
 */
export async function terminate(all: number[], graceMs: number, killWaitMs = 5_000): Promise<number[]> {
  const pids = all.filter(isRunning);
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pids.some(isRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(isRunning)) signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + killWaitMs;
  while (pids.some(isRunning) && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 50));
  return pids.filter(isRunning);
}
