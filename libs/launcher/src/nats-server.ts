/**
 * nats-server processes run by the project: private servers for tests (anonymous, or with the platform's
 * authorization model of ./nats-config.ts), and the quick start's own server (`startPlatformNats`: config file and
 * JetStream store under `.eventcast/nats/`, its own port, authentication required).
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, chmodSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { NATS_APP_USERS, NATS_PASSWORD_ENV, NATS_USER_ENV, natsPasswordSecretName, type NatsAppUser } from '@eventcast/contracts';
import { freePort, waitForPort } from './free-port.js';
import { isOwnProcess, terminate } from './proc.js';
import { parseSecretsFile } from './secrets-file.js';
import { generateNatsPasswords, natsPasswordsFrom, natsSecretsEnv, renderNatsConfig, type NatsPasswords, type NatsTopologyNames } from './nats-config.js';

/** A NATS user name and password. */
export interface NatsCredentials {
  user: string;
  password: string;
}

/** A running private NATS server. `stop()` ends it (SIGTERM) keeping its store; `start()` runs it again on the same port and store. */
export interface PrivateNatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** With `auth`: each app's credentials (only its own subjects, docs/contracts.md). */
  credentials?: Record<NatsAppUser, NatsCredentials>;
  /** With `auth`: a test-only user allowed everything (to inspect the stream's raw contents, to play a fake peer). */
  admin?: NatsCredentials;
  /**
   * Environment of `app` on this server: `NATS_URL`, plus `NATS_USER`/`NATS_PASSWORD` with `auth`.
   * `'admin'` gives the admin credentials (auth only).
   */
  envFor(app: NatsAppUser | 'admin'): Record<string, string>;
  /**
   * `NATS_URL` plus, with `auth`, every app's password as in `.eventcast/secrets.env` (`NATS_PASSWORD_<APP>`): the
   * launcher's shared environment, from which it hands each app only its own (`natsEnvFor`).
   */
  secretsEnv(): Record<string, string>;
  /** Log file of the server (permission violations are logged there). */
  logFile: string;
  /** With `monitor`: the HTTP monitoring base URL (`http://127.0.0.1:<port>`: `/connz`, `/subsz`, `/jsz`, …). */
  monitorUrl?: string;
  /**
   * The server's `Publish Violation` / `Subscription Violation` log lines so far: a client used a subject its user
   * may not (with `auth`, proof that some app lacks a permission it needs, or tried one it must not have).
   */
  permissionViolations(): string[];
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stops the server and removes its store directory. */
  dispose(): Promise<void>;
}

/** Options of {@link startPrivateNats}. */
export interface PrivateNatsOptions {
  /** Run the platform's authorization model: no anonymous access, one user per app (default false: anonymous). */
  auth?: boolean;
  /** Stream and consumer names the permissions name (default: the apps' defaults). */
  names?: NatsTopologyNames;
  /** Open the HTTP monitoring port on a free loopback port (`-m`, default false): see `monitorUrl`. */
  monitor?: boolean;
}

/**
 * Path of the nats-server binary: `env.NATS_SERVER_BIN`, else the first executable `nats-server` on `env.PATH` (as
 * scripts/setup.sh accepts, `command -v nats-server`), else Debian's `/usr/sbin/nats-server` (not on a normal
 * user's PATH). Never throws: a missing binary shows when spawning it ({@link spawnNatsServer}).
 */
export function findNatsServerBin(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['NATS_SERVER_BIN'];
  if (explicit) return explicit;
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return '/usr/sbin/nats-server';
}

/** Path of the nats-server binary this process uses: {@link findNatsServerBin} of its environment at load. */
export const NATS_SERVER_BIN = findNatsServerBin();

/**
 * Spawns nats-server (`bin`, default {@link NATS_SERVER_BIN}) with `args` and resolves once the child has started (its `spawn` event), so a missing or
 * non-executable binary rejects with a clear message instead of an unhandled `'error'` event (Node.js
 * child_process docs: a failed spawn emits `'error'`, never `'spawn'`).
 * @throws {Error} `could not start nats-server (<bin>): <reason>; install it or set NATS_SERVER_BIN`.
 */
export async function spawnNatsServer(args: string[], options: SpawnOptions, bin: string = NATS_SERVER_BIN): Promise<ChildProcess> {
  const child = spawn(bin, args, options);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`could not start nats-server (${bin}): ${err.code ?? err.message}; install it (scripts/setup.sh) or set NATS_SERVER_BIN`, { cause: err })),
    );
  });
  // Later errors (a failed kill) must not crash the caller either; exit is what callers watch.
  child.on('error', () => {});
  return child;
}

/**
 * Starts nats-server with JetStream on a free loopback port with a fresh temporary store: anonymous by default, or
 * with `auth: true` the platform's users and permissions (./nats-config.ts) plus a test-only admin user.
 */
export async function startPrivateNats(options: PrivateNatsOptions = {}): Promise<PrivateNatsServer> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'eventcast-nats-'));
  const logFile = join(storeDir, 'nats.log');
  let args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, '-l', logFile];
  let credentials: Record<NatsAppUser, NatsCredentials> | undefined;
  let admin: NatsCredentials | undefined;
  let passwords: NatsPasswords | undefined;
  if (options.auth) {
    const generated = generateNatsPasswords();
    passwords = generated;
    admin = { user: 'eventcast-test-admin', password: randomBytes(24).toString('base64url') };
    credentials = Object.fromEntries(NATS_APP_USERS.map((app) => [app, { user: app, password: generated[app] }])) as Record<NatsAppUser, NatsCredentials>;
    const conf = join(storeDir, 'nats.conf');
    const text = renderNatsConfig({
      host: '127.0.0.1',
      port,
      storeDir: join(storeDir, 'js'),
      passwords: generated,
      admins: [admin],
      serverName: `eventcast-test-${port}`,
      ...(options.names ? { names: options.names } : {}),
    });
    writeFileSync(conf, text, { mode: 0o600 });
    args = ['-c', conf, '-l', logFile];
  }
  let monitorUrl: string | undefined;
  if (options.monitor) {
    const m = await freePort();
    args.push('-m', String(m));
    monitorUrl = `http://127.0.0.1:${m}`;
  }
  let child: ChildProcess | null = null;
  const url = `nats://127.0.0.1:${port}`;
  const server: PrivateNatsServer = {
    url,
    port,
    storeDir,
    logFile,
    ...(monitorUrl ? { monitorUrl } : {}),
    ...(credentials ? { credentials } : {}),
    ...(admin ? { admin } : {}),
    envFor(app) {
      const c = app === 'admin' ? admin : credentials?.[app];
      const env: Record<string, string> = { NATS_URL: url };
      if (c) Object.assign(env, { [NATS_USER_ENV]: c.user, [NATS_PASSWORD_ENV]: c.password });
      return env;
    },
    permissionViolations() {
      let text: string;
      try {
        text = readFileSync(logFile, 'utf8');
      } catch {
        return [];
      }
      return text.split('\n').filter((l) => /(Publish|Subscription) Violation/.test(l));
    },
    secretsEnv() {
      return { NATS_URL: url, ...(passwords ? natsSecretsEnv(passwords) : {}) };
    },
    async start() {
      if (child) return;
      child = await spawnNatsServer(args, { stdio: 'ignore' });
      await waitForPort(port);
    },
    async stop() {
      const c = child;
      if (!c) return;
      child = null;
      if (c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
    async dispose() {
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** Default client port of the platform's own nats-server (not 4222: a machine's plain NATS may hold that). */
export const PLATFORM_NATS_PORT = 4223;

/** Options of {@link startPlatformNats}. */
export interface PlatformNatsOptions {
  /** The `.eventcast` directory: config in `nats/nats.conf`, store in `nats/store`, log in `logs/nats.log`. */
  stateDir: string;
  passwords: NatsPasswords;
  port?: number;
  host?: string;
}

/** The platform's NATS as started (or found running) by {@link startPlatformNats}. */
export interface PlatformNats {
  url: string;
  pid: number;
  /** True when this call started it; false when one started earlier was running and only reloaded its config. */
  started: boolean;
}

/**
 * Pid of the platform's nats-server from `stateDir/run/nats.pid` when that pid is still our server — running, with
 * `nats-server` and our config file `stateDir/nats/nats.conf` in its command line (/proc, {@link isOwnProcess}) —
 * else null. A pid file that names anything else (a pid reused after a reboot or a crash) is removed, and that
 * process is never signalled.
 */
function platformNatsPid(stateDir: string): number | null {
  const pidFile = join(stateDir, 'run', 'nats.pid');
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (isOwnProcess(pid, { cmdlineIncludes: ['nats-server', join(stateDir, 'nats', 'nats.conf')] })) return pid;
  rmSync(pidFile, { force: true });
  return null;
}

/**
 * Writes `stateDir/nats/nats.conf` (mode 0600, regenerated on every call from `passwords`) and makes sure the
 * platform's nats-server runs on it, detached (it outlives the CLI; pid in `stateDir/run/nats.pid`): a server
 * already running from an earlier call (the pid file names a process whose command line is nats-server with this
 * config file) is told to reload its configuration (SIGHUP) and left running, so apps keep their connections;
 * otherwise a stale pid file is dropped, and a server is started and awaited on its port.
 * @throws {Error} when nats-server cannot be spawned ({@link spawnNatsServer}) or does not listen within 10 s (the
 * log file is named).
 */
export async function startPlatformNats(o: PlatformNatsOptions): Promise<PlatformNats> {
  const port = o.port ?? PLATFORM_NATS_PORT;
  const host = o.host ?? '127.0.0.1';
  const dir = join(o.stateDir, 'nats');
  // Not `nats/jetstream`: that is where the anonymous server of older setups kept a stream with credential hashes.
  const storeDir = join(dir, 'store');
  const logDir = join(o.stateDir, 'logs');
  const runDir = join(o.stateDir, 'run');
  for (const d of [dir, storeDir, logDir, runDir]) mkdirSync(d, { recursive: true });
  const conf = join(dir, 'nats.conf');
  writeFileSync(conf, renderNatsConfig({ host, port, storeDir, passwords: o.passwords }), { mode: 0o600 });
  chmodSync(conf, 0o600);
  const url = `nats://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const pidFile = join(runDir, 'nats.pid');
  const known = platformNatsPid(o.stateDir);
  if (known !== null) {
    process.kill(known, 'SIGHUP');
    return { url, pid: known, started: false };
  }
  const log = openSync(join(logDir, 'nats.log'), 'a');
  let child: ChildProcess;
  try {
    child = await spawnNatsServer(['-c', conf], { detached: true, stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${NATS_SERVER_BIN}`);
  writeFileSync(pidFile, String(child.pid));
  try {
    await waitForPort(port, host === '0.0.0.0' ? '127.0.0.1' : host, 10_000);
  } catch {
    throw new Error(`nats-server did not listen on ${host}:${port} within 10 s; see ${join(logDir, 'nats.log')}`);
  }
  return { url, pid: child.pid, started: true };
}

/**
 * Stops the platform's nats-server started by {@link startPlatformNats} ({@link terminate}: SIGTERM, then SIGKILL
 * after 10 s) and removes its pid file; a pid file naming any other process only is removed.
 */
export async function stopPlatformNats(stateDir: string): Promise<void> {
  const pid = platformNatsPid(stateDir);
  if (pid !== null) await terminate([pid], 10_000);
  rmSync(join(stateDir, 'run', 'nats.pid'), { force: true });
}

/**
 * Adds the NATS app passwords to the secrets file `file` (`NATS_PASSWORD_<APP>=…`, fresh random ones) when it lacks
 * them — first run, or a secrets file from before NATS authentication. Existing passwords are never changed.
 * @returns the passwords now in the file.
 */
export function ensureNatsSecrets(file: string): NatsPasswords {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const current = parseSecretsFile(text);
  const found = natsPasswordsFrom(current);
  if (found) return found;
  const fresh = generateNatsPasswords();
  const merged = Object.fromEntries(NATS_APP_USERS.map((app) => [app, current[natsPasswordSecretName(app)] || fresh[app]])) as NatsPasswords;
  const missing = NATS_APP_USERS.filter((app) => !current[natsPasswordSecretName(app)]);
  const lines = missing.map((app) => `${natsPasswordSecretName(app)}=${merged[app]}\n`).join('');
  writeFileSync(file, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}# NATS users of the apps (docs/contracts.md "NATS: users, permissions, wire form").\n${lines}`, { mode: 0o600 });
  return merged;
}

/**
 * The quick start's NATS step: unless `NATS_URL` is set in `processEnv` (an operator's own NATS, configured with the
 * users of docs/contracts.md), starts or reloads the platform's nats-server (`startPlatformNats`, port
 * `EVENTCAST_NATS_PORT` or {@link PLATFORM_NATS_PORT}) with the passwords of `secrets`.
 * @returns the environment to add for the apps: `NATS_URL`.
 * @throws {Error} when `secrets` lacks a NATS password ({@link ensureNatsSecrets} first) or the server fails to start.
 */
export async function platformNatsEnv(stateDir: string, secrets: Record<string, string>, processEnv: NodeJS.ProcessEnv = process.env): Promise<Record<string, string>> {
  const external = processEnv['NATS_URL'];
  if (external) return { NATS_URL: external };
  const passwords = natsPasswordsFrom(secrets);
  if (!passwords) throw new Error('the secrets file lacks the NATS passwords (NATS_PASSWORD_<APP>)');
  const port = Number(processEnv['EVENTCAST_NATS_PORT'] ?? PLATFORM_NATS_PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('EVENTCAST_NATS_PORT must be a TCP port');
  const nats = await startPlatformNats({ stateDir, passwords, port });
  return { NATS_URL: nats.url };
}
