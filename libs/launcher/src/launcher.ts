/**
 * Starts the five apps of the platform as child processes, waits until each answers its health check, and stops
 * them again (SIGTERM, then SIGKILL after a grace period). Used by `scripts/up.sh` and the end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { natsEnvFor } from './nats-config.js';

/** TCP ports of the platform; defaults in docs/contracts.md. */
export interface PlatformPorts {
  commandApi: number;
  queryApi: number;
  realtime: number;
  rtmp: number;
  hls: number;
  web: number;
}

export const DEFAULT_PORTS: PlatformPorts = { commandApi: 4001, queryApi: 4002, realtime: 4003, rtmp: 1935, hls: 8000, web: 3000 };

export interface PlatformOptions {
  /** Repository root (where apps/ is). */
  rootDir: string;
  /** Environment shared by every app (DATABASE_URL, NATS_URL, REDIS_URL, secrets, MEDIA_DIR…). */
  env: Record<string, string>;
  ports?: Partial<PlatformPorts>;
  /** One `<app>.log` per app is written here (JSON lines from the apps). */
  logDir: string;
  /** Host name browsers use to reach the apps; when set, the web app gets explicit PUBLIC_* URLs. */
  publicHost?: string;
  /** Let the apps outlive this process (quick start); otherwise they die with it. */
  detached?: boolean;
  /** Milliseconds to wait for every health check (default 90 s). */
  healthTimeoutMs?: number;
}

export interface PlatformUrls {
  web: string;
  commandApi: string;
  queryApi: string;
  realtime: string;
  hls: string;
  rtmp: string;
}

export interface RunningPlatform {
  urls: PlatformUrls;
  ports: PlatformPorts;
  /** Process id by app name. */
  pids: Record<string, number>;
  /** SIGTERM to every app, SIGKILL after `graceMs` (default 10 s). Resolves when all have exited. */
  stop(graceMs?: number): Promise<void>;
}

interface AppSpec {
  name: string;
  cwd: string;
  args: string[];
  env: Record<string, string>;
  health: string;
}

/** Builds the URLs of a platform on `host` with `ports`. */
export function platformUrls(host: string, ports: PlatformPorts): PlatformUrls {
  return {
    web: `http://${host}:${ports.web}`,
    commandApi: `http://${host}:${ports.commandApi}`,
    queryApi: `http://${host}:${ports.queryApi}`,
    realtime: `ws://${host}:${ports.realtime}/ws`,
    hls: `http://${host}:${ports.hls}`,
    rtmp: `rtmp://${host}:${ports.rtmp}/live`,
  };
}

function appSpecs(o: PlatformOptions, p: PlatformPorts): AppSpec[] {
  const r = (d: string) => join(o.rootDir, d);
  const host = o.publicHost;
  const shared: Record<string, string> = {
    ...o.env,
    COMMAND_API_PORT: String(p.commandApi),
    QUERY_API_PORT: String(p.queryApi),
    REALTIME_PORT: String(p.realtime),
    INGEST_RTMP_PORT: String(p.rtmp),
    INGEST_HTTP_PORT: String(p.hls),
    WEB_PORT: String(p.web),
    // Where the realtime edge looks up channel ids (server to server, so always loopback).
    QUERY_API_URL: `http://127.0.0.1:${p.queryApi}`,
    // Where query-api's GET /admin/broadcasts reads the ingest health (server to server, loopback).
    INGEST_URL: `http://127.0.0.1:${p.hls}`,
  };
  if (host) {
    const u = platformUrls(host, p);
    Object.assign(shared, {
      HLS_PUBLIC_URL: u.hls,
      RTMP_PUBLIC_URL: u.rtmp,
      PUBLIC_COMMAND_API_URL: u.commandApi,
      PUBLIC_QUERY_API_URL: u.queryApi,
      PUBLIC_REALTIME_URL: u.realtime,
      PUBLIC_RTMP_URL: u.rtmp,
    });
  }
  const local = (port: number, path: string) => `http://127.0.0.1:${port}${path}`;
  // Each app gets only its own NATS credentials (nats-config.ts).
  return withNatsCredentials([
    { name: 'command-api', cwd: r('apps/command-api'), args: ['dist/main.js'], env: shared, health: local(p.commandApi, '/health') },
    { name: 'query-api', cwd: r('apps/query-api'), args: ['dist/main.js'], env: shared, health: local(p.queryApi, '/health') },
    { name: 'realtime', cwd: r('apps/realtime'), args: ['dist/main.js'], env: shared, health: local(p.realtime, '/health') },
    { name: 'ingest', cwd: r('apps/ingest'), args: ['dist/main.js'], env: shared, health: local(p.hls, '/health') },
    {
      name: 'web',
      cwd: r('apps/web'),
      args: ['build'],
      env: { ...shared, PORT: String(p.web), HOST: shared['HOST'] ?? '0.0.0.0' },
      health: local(p.web, '/'),
    },
  ]);
}

/** Replaces every app's environment by `natsEnvFor(app, env)`: its own NATS user and password, nobody else's. */
function withNatsCredentials(specs: AppSpec[]): AppSpec[] {
  return specs.map((s) => ({ ...s, env: natsEnvFor(s.name, s.env) }));
}

/** Polls `url` until it answers 2xx; rejects after `timeoutMs` or as soon as `child` exits. */
async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts command-api first (it migrates the event store), then the other four apps side by side, and waits for
 * every health check.
 * @throws {Error} naming the app that failed, with the tail of its log; apps already started are stopped.
 */
export async function startPlatform(o: PlatformOptions): Promise<RunningPlatform> {
  const ports = { ...DEFAULT_PORTS, ...o.ports };
  mkdirSync(o.logDir, { recursive: true });
  const children = new Map<string, ChildProcess>();
  const timeout = o.healthTimeoutMs ?? 90_000;
  const launch = async (spec: AppSpec) => {
    const logFile = join(o.logDir, `${spec.name}.log`);
    const log = createWriteStream(logFile, { flags: 'a' });
    await new Promise((r) => log.once('open', r));
    const child = spawn(process.execPath, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', log, log],
      detached: o.detached ?? false,
    });
    if (o.detached) child.unref();
    children.set(spec.name, child);
    try {
      await waitHealthy(spec.health, child, timeout);
    } catch (e) {
      throw new Error(`${spec.name} failed to start: ${(e as Error).message}\n--- ${logFile} ---\n${tail(logFile)}`, { cause: e });
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
  const [first, ...rest] = appSpecs(o, ports);
  try {
    if (first) await launch(first);
    await Promise.all(rest.map(launch));
  } catch (e) {
    await stop(2000);
    throw e;
  }
  const pids: Record<string, number> = {};
  for (const [name, c] of children) if (c.pid) pids[name] = c.pid;
  return { urls: platformUrls(o.publicHost ?? 'localhost', ports), ports, pids, stop };
}
