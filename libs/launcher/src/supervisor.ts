/**
 * The quick start's process supervisor: the platform's processes ({@link platformProcesses}) run under pm2
 * (https://pm2.keymetrics.io, npm `pm2`), which restarts a process that exits with an exponential backoff, keeps
 * each one's output in `<logDir>/<name>.log` and reports state, pid, restarts and uptime.
 *
 * pm2 is driven through its command-line interface (`pm2 start <ecosystem file> --only …`, `pm2 jlist`, `pm2 delete`,
 * `pm2 kill`), never imported: it runs as a separate program (it is AGPL-3.0 licensed; Eventcast is MIT) and a
 * daemon of its own, with its own home directory (`PM2_HOME`, here `.eventcast/pm2`), so it never touches a pm2 the
 * user runs for other things. Each process is started with `interpreter: none` — pm2 spawns the Node binary with the
 * app's entry point, exactly as the plain launcher does, instead of wrapping it in its own loader.
 *
 * Options used (pm2 docs, "Ecosystem File" / "Restart strategies"): `exp_backoff_restart_delay` 100 ms (pm2 then
 * waits 100 ms × 1.5ⁿ, at most 15 s, between restarts, and resets after 30 s of uptime), `min_uptime` 5 s and
 * `max_restarts` 20 (20 exits in a row, each sooner than 5 s after its start, mark the process `errored` and pm2 gives
 * up; `up` starts it again), `kill_timeout` 10 s after SIGTERM (`PM2_KILL_SIGNAL`, pm2's default is SIGINT) before
 * SIGKILL, `treekill` off (each app ends its own children, e.g. ingest's ffmpeg, on SIGTERM), no git metadata
 * (`vizion`), no pm2.io agent (`pmx`, `automation`), and no version check over the network (`PM2_DISABLE_VERSION_CHECK`).
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { byStage, DEFAULT_PORTS, platformProcesses, platformUrls, waitHealthy, type PlatformOptions, type PlatformPorts, type PlatformUrls, type ProcessSpec } from './processes.js';
import { tailLog } from './launcher.js';
import { isOwnProcess, isRunning, terminate } from './proc.js';

const run = promisify(execFile);

/** Path of pm2's command-line entry point (`node_modules/pm2/bin/pm2`), resolved from this package. */
export function pm2Bin(): string {
  return join(dirname(createRequire(import.meta.url).resolve('pm2/package.json')), 'bin', 'pm2');
}

/** Restart policy of every supervised process (see the module comment for what each means). */
export const RESTART_POLICY = {
  expBackoffRestartDelayMs: 100,
  minUptimeMs: 5000,
  maxRestarts: 20,
  killTimeoutMs: 10_000,
} as const;

/**
 * pm2's state of a process: `online` (running), `launching`, `waiting restart` (exited, restart scheduled after the
 * backoff), `stopping`, `stopped`, `errored` (gave up after too many quick exits), `one-launch-status`.
 */
export type SupervisedState = 'online' | 'launching' | 'waiting restart' | 'stopping' | 'stopped' | 'errored' | 'one-launch-status';

/** One supervised process as pm2 reports it. */
export interface SupervisedProcess {
  name: string;
  state: SupervisedState;
  /** Operating-system process id; null unless running. */
  pid: number | null;
  /** How many times pm2 restarted it since it was started (crash restarts included). */
  restarts: number;
  /** Milliseconds since the current run started; null unless running. */
  uptimeMs: number | null;
  /** Resident memory in bytes (pm2's last sample); null unless running. */
  memoryBytes: number | null;
}

/** States in which pm2 is already taking care of the process: `up` leaves it alone (it only waits for health). */
const HANDLED: ReadonlySet<SupervisedState> = new Set(['online', 'launching', 'waiting restart']);

interface Pm2ListEntry {
  name?: string;
  pid?: number;
  monit?: { memory?: number };
  pm2_env?: { status?: string; restart_time?: number; pm_uptime?: number };
}

/**
 * A pm2 daemon with its own home directory. Every method runs the pm2 CLI (one short-lived Node process per call).
 * `list`, `delete` and `kill` do not start a daemon when none is running.
 */
export class Pm2Supervisor {
  /** @param home pm2's home directory (`PM2_HOME`: its socket, pid and dump files); created when missing. */
  constructor(readonly home: string) {}

  private env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PM2_HOME: this.home,
      // Read by the daemon when it starts: the signal of a graceful stop (pm2's default is SIGINT).
      PM2_KILL_SIGNAL: 'SIGTERM',
      PM2_DISABLE_VERSION_CHECK: 'true',
    };
  }

  /**
   * Runs `pm2 …args` with this home.
   * @throws {Error} with pm2's output when it exits non-zero.
   */
  async pm2(args: string[]): Promise<string> {
    this.ensureHome();
    // pm2 prints a banner and checks its version over the network on the first run in a home without this file.
    const touch = join(this.home, 'touch');
    if (!existsSync(touch)) writeFileSync(touch, String(Date.now()));
    try {
      const { stdout } = await run(process.execPath, [pm2Bin(), ...args], { env: this.env(), maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
      return stdout;
    } catch (e) {
      const err = e as Error & { stdout?: string; stderr?: string };
      throw new Error(`pm2 ${args.join(' ')} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`, { cause: e });
    }
  }

  /**
   * Creates the home, private to this user (0700): pm2 keeps the processes' environment, secrets included, in its
   * memory and writes it to `dump.pm2` there when its daemon is stopped by a signal.
   */
  private ensureHome(): void {
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    chmodSync(this.home, 0o700);
  }

  /**
   * Pid of this home's pm2 daemon when it is running, else null: the pid in `<home>/pm2.pid`, alive, and (where
   * /proc exists) titled as pm2's daemon (`PM2 v… God Daemon (<home>)`), so a stale file naming a reused pid is no
   * daemon.
   */
  daemonPid(): number | null {
    try {
      const pid = Number(readFileSync(join(this.home, 'pm2.pid'), 'utf8').trim());
      const ours = existsSync('/proc') ? isOwnProcess(pid, { cmdlineIncludes: ['God Daemon'] }) : isRunning(pid);
      return ours ? pid : null;
    } catch {
      return null;
    }
  }

  /** Every process pm2 knows in this home ([] when its daemon is not running). */
  async list(): Promise<SupervisedProcess[]> {
    if (this.daemonPid() === null) return [];
    const out = await this.pm2(['jlist']);
    // jlist prints one JSON array; skip anything pm2 may print before it.
    const json = out.slice(out.indexOf('['));
    const now = Date.now();
    return (JSON.parse(json) as Pm2ListEntry[]).map((p) => {
      const state = (p.pm2_env?.status ?? 'stopped') as SupervisedState;
      const running = state === 'online' && typeof p.pid === 'number' && p.pid > 0;
      return {
        name: p.name ?? '?',
        state,
        pid: running ? (p.pid ?? null) : null,
        restarts: p.pm2_env?.restart_time ?? 0,
        uptimeMs: running && p.pm2_env?.pm_uptime ? now - p.pm2_env.pm_uptime : null,
        memoryBytes: running ? (p.monit?.memory ?? null) : null,
      };
    });
  }

  /**
   * Starts `specs` under pm2 (starting the daemon when needed), each with the restart policy and its log in
   * `<logDir>/<name>.log`. The ecosystem file holds the processes' environment (secrets included): it is written with
   * mode 0600 inside the private pm2 home and removed once pm2 has read it. Processes of the same names must not
   * exist (see {@link delete}).
   */
  async start(specs: ProcessSpec[], logDir: string): Promise<void> {
    if (specs.length === 0) return;
    mkdirSync(logDir, { recursive: true });
    this.ensureHome();
    const apps = specs.map((s) => {
      const log = join(logDir, `${s.name}.log`);
      return {
        name: s.name,
        script: s.command,
        args: s.args,
        cwd: s.cwd,
        interpreter: 'none',
        exec_mode: 'fork',
        env: { ...stringEnv(process.env), ...s.env },
        autorestart: true,
        exp_backoff_restart_delay: RESTART_POLICY.expBackoffRestartDelayMs,
        min_uptime: RESTART_POLICY.minUptimeMs,
        max_restarts: RESTART_POLICY.maxRestarts,
        kill_timeout: RESTART_POLICY.killTimeoutMs,
        treekill: false,
        out_file: log,
        error_file: log,
        merge_logs: true,
        time: false,
        watch: false,
        vizion: false,
        pmx: false,
        automation: false,
      };
    });
    const file = join(this.home, 'eventcast.ecosystem.json');
    writeFileSync(file, JSON.stringify({ apps }, null, 2), { mode: 0o600 });
    try {
      await this.pm2(['start', file, '--only', specs.map((s) => s.name).join(',')]);
    } finally {
      rmSync(file, { force: true });
    }
  }

  /** Stops (SIGTERM, SIGKILL after the kill timeout) and forgets the named processes. */
  async delete(names: string[]): Promise<void> {
    if (names.length === 0 || this.daemonPid() === null) return;
    await this.pm2(['delete', ...names]);
  }

  /**
   * Processes pm2 started from this home that still run while its daemon does not (the daemon was killed, so nothing
   * supervises them): found through pm2's pid files (`<home>/pids/*.pid`), and kept only when the process's
   * environment names that pid file (`pm_pid_path`, which pm2 gives every process), so a reused pid is never taken
   * for one. Always [] while the daemon runs.
   */
  orphans(): { name: string; pid: number }[] {
    if (this.daemonPid() !== null) return [];
    const dir = join(this.home, 'pids');
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.pid'));
    } catch {
      return [];
    }
    const out: { name: string; pid: number }[] = [];
    for (const f of files) {
      const file = join(dir, f);
      try {
        const pid = Number(readFileSync(file, 'utf8').trim());
        const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        if (environ.includes(`pm_pid_path=${file}`)) out.push({ name: f.replace(/-\d+\.pid$/, ''), pid });
      } catch {
        // not running (or not readable): not an orphan of ours
      }
    }
    return out;
  }

  /**
   * Stops every process of this home gracefully (SIGTERM, SIGKILL after the kill timeout), then the daemon itself;
   * without a daemon, stops its {@link orphans} the same way.
   */
  async kill(): Promise<void> {
    if (this.daemonPid() === null) {
      await terminate(this.orphans().map((o) => o.pid), RESTART_POLICY.killTimeoutMs);
      return;
    }
    await this.pm2(['kill']);
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

/** Options of {@link upSupervised}: the platform's, plus pm2's home directory. */
export interface SupervisedPlatformOptions extends Omit<PlatformOptions, 'detached'> {
  /** pm2's home directory, e.g. `<root>/.eventcast/pm2` (the quick start) or a temporary one (tests). */
  pm2Home: string;
}

/** What {@link upSupervised} did. */
export interface SupervisedUp {
  urls: PlatformUrls;
  ports: PlatformPorts;
  /** Processes it (re)started because they were missing, stopped or errored. */
  started: string[];
  /** Processes pm2 was already running (or restarting): left alone. */
  kept: string[];
  /** Pid of every process after the health checks passed, by name. */
  pids: Record<string, number>;
}

/**
 * Brings the platform up under pm2, idempotently: a process that pm2 already runs (or is restarting after a crash)
 * is left alone; a process that is missing, stopped or errored is started with the current spec. Stage by stage
 * (see {@link ProcessSpec.stage}), every process is healthy before the next stage starts.
 * @throws {Error} naming the process whose health check failed, with the tail of its log; nothing is stopped (pm2
 *   keeps restarting it; `status` and the log tell why).
 */
export async function upSupervised(o: SupervisedPlatformOptions): Promise<SupervisedUp> {
  const ports = { ...DEFAULT_PORTS, ...o.ports };
  const sup = new Pm2Supervisor(o.pm2Home);
  const timeout = o.healthTimeoutMs ?? 90_000;
  const started: string[] = [];
  const kept: string[] = [];
  // Left running by a pm2 daemon that died: they hold the ports, and nothing would restart them. Start afresh.
  await terminate(sup.orphans().map((x) => x.pid), RESTART_POLICY.killTimeoutMs);
  for (const stage of byStage(platformProcesses(o, ports))) {
    const known = new Map((await sup.list()).map((p) => [p.name, p]));
    const missing = stage.filter((s) => !HANDLED.has(known.get(s.name)?.state ?? 'stopped'));
    kept.push(...stage.filter((s) => !missing.includes(s)).map((s) => s.name));
    await sup.delete(missing.filter((s) => known.has(s.name)).map((s) => s.name));
    await sup.start(missing, o.logDir);
    started.push(...missing.map((s) => s.name));
    await Promise.all(
      stage.map(async (s) => {
        try {
          // Asking pm2 costs a Node process per call: look at its state every 2 s, probe health every 250 ms.
          let lastAsked = Date.now();
          await waitHealthy(s.health, timeout, async () => {
            if (Date.now() - lastAsked < 2000) return null;
            lastAsked = Date.now();
            const p = (await sup.list()).find((x) => x.name === s.name);
            return p?.state === 'errored' || p?.state === 'stopped' ? `${p.state} after ${p.restarts} restarts` : null;
          });
        } catch (e) {
          const log = join(o.logDir, `${s.name}.log`);
          throw new Error(`${s.name} is not healthy: ${(e as Error).message}\n--- ${log} ---\n${tailLog(log)}`, { cause: e });
        }
      }),
    );
  }
  const pids: Record<string, number> = {};
  for (const p of await sup.list()) if (p.pid) pids[p.name] = p.pid;
  return { urls: platformUrls(o.publicHost ?? 'localhost', ports), ports, started, kept, pids };
}
