/**
 * Starts the platform's processes ({@link platformProcesses}) as plain child processes, waits until each answers its
 * health check, and stops them again (SIGTERM, then SIGKILL after a grace period). Used by the end-to-end tests:
 * nothing restarts a child that dies (a test sees the failure). The quick start runs the same process list under
 * a supervisor instead (supervisor.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { byStage, DEFAULT_PORTS, platformProcesses, platformUrls, waitHealthy, type PlatformOptions, type PlatformPorts, type PlatformUrls, type ProcessSpec } from './processes.js';

export interface RunningPlatform {
  urls: PlatformUrls;
  ports: PlatformPorts;
  /** Process id by app name. */
  pids: Record<string, number>;
  /**
   * Apps that have exited since they started, by name, with how (`exited with code 1`, `killed by SIGKILL`), from each
   * child's `exit` event: {} while every app runs. Nothing restarts an app here, so an entry is a crash (or a stop).
   */
  exited(): Record<string, string>;
  /** SIGTERM to every app, SIGKILL after `graceMs` (default 10 s). Resolves when all have exited. */
  stop(graceMs?: number): Promise<void>;
}

/** The last `lines` lines of `file`, or "(no log)". */
export function tailLog(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts the processes stage by stage (command-api first: it migrates the event store; then the other four apps side
 * by side) and waits for every health check.
 * @throws {Error} naming the app that failed, with the tail of its log; apps already started are stopped.
 */
export async function startPlatform(o: PlatformOptions): Promise<RunningPlatform> {
  const ports = { ...DEFAULT_PORTS, ...o.ports };
  mkdirSync(o.logDir, { recursive: true });
  const children = new Map<string, ChildProcess>();
  const exits: Record<string, string> = {};
  const timeout = o.healthTimeoutMs ?? 90_000;
  const launch = async (spec: ProcessSpec) => {
    const logFile = join(o.logDir, `${spec.name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    await new Promise((r) => log.once('open', r));
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', log, log],
      detached: o.detached ?? false,
    });
    if (o.detached) child.unref();
    children.set(spec.name, child);
    child.once('exit', (code, signal) => {
      exits[spec.name] = signal ? `killed by ${signal}` : `exited with code ${String(code)}`;
    });
    try {
      await waitHealthy(spec.health, timeout, () =>
        child.exitCode !== null || child.signalCode !== null ? `exited (${child.exitCode ?? child.signalCode})` : null,
      );
    } catch (e) {
      throw new Error(`${spec.name} failed to start: ${(e as Error).message}\n--- ${logFile} ---\n${tailLog(logFile)}`, { cause: e });
    }
  };
  const stop = async (graceMs = 10_000) => {
    await Promise.all(
      [...children.values()].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const kill = setTimeout(() => c.kill('SIGKILL'), graceMs);
            c.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
  };
  try {
    for (const stage of byStage(platformProcesses(o, ports))) await Promise.all(stage.map(launch));
  } catch (e) {
    await stop(2000);
    throw e;
  }
  const pids: Record<string, number> = {};
  for (const [name, c] of children) if (c.pid) pids[name] = c.pid;
  return { urls: platformUrls(o.publicHost ?? 'localhost', ports), ports, pids, exited: () => ({ ...exits }), stop };
}
