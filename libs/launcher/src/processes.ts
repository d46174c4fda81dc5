/**
 * The platform's process list: one {@link ProcessSpec} per app (the five apps), built from the ports and the shared
 * environment. The services they need — PostgreSQL, Redis and the platform's own nats-server — are not on it: the
 * quick start starts them beforehand (nats-server.ts) and pm2 does not supervise them. Both ways of running the platform
 * consume this list: plain child processes ({@link startPlatform} in launcher.ts, the end-to-end tests) and the
 * supervised quick start (pm2, supervisor.ts).
 */
import { join } from 'node:path';
import { natsEnvFor } from './nats-config.js';

/** TCP ports of the platform; defaults in docs/contracts.md. */
export interface PlatformPorts {
  commandApi: number;
  queryApi: number;
  realtime: number;
  rtmp: number;
  /** RTMPS ingest (issue 10 item 6); opened only when the ingest has a certificate (INGEST_TLS_CERT_FILE/KEY_FILE). */
  rtmps: number;
  hls: number;
  web: number;
}

/**
 * The platform's default TCP ports (docs/contracts.md "Processes and ports"): command-api 4001, query-api 4002, realtime 4003 (the
 * WebSocket edge), RTMP ingest 1935 (the RTMP default), ingest's HLS/health HTTP 8000, web 3000. The quick start
 * uses them unless a `*_PORT` variable says otherwise; tests use free ports instead.
 */
export const DEFAULT_PORTS: PlatformPorts = { commandApi: 4001, queryApi: 4002, realtime: 4003, rtmp: 1935, rtmps: 1936, hls: 8000, web: 3000 };

/**
 * How to run the platform: the input of `startPlatform` (launcher.ts) and, with a pm2 home, `upSupervised`:
 * where the repository is, the environment every app shares, ports (any left out: {@link DEFAULT_PORTS}), where the
 * logs go, and how browsers reach the apps.
 */
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
  /** Let the apps outlive this process (plain child processes only); otherwise they die with it. */
  detached?: boolean;
  /** Milliseconds to wait for every health check (default 90 s). */
  healthTimeoutMs?: number;
  /**
   * More instances of the scalable apps beside the first (scale-out, docs/design.md): each runs `app` once more
   * under its own `name` (its log `<name>.log`, its key in pid maps), on the first instance's ports overridden by
   * `ports` (give each instance its own listening ports), with `env` on top of the shared environment. They start
   * in stage 2, after the first command-api has migrated the store.
   */
  instances?: readonly AppInstance[];
}

/** One more instance of a scalable app ({@link PlatformOptions.instances}). */
export interface AppInstance {
  app: 'command-api' | 'query-api' | 'realtime' | 'ingest';
  /** Unique process name, e.g. `realtime-2`. */
  name: string;
  /** This instance's listening ports (e.g. `{ realtime: 4103 }`; for an ingest `{ rtmp, rtmps, hls }`). */
  ports: Partial<PlatformPorts>;
  /** Environment of this instance on top of the shared one (e.g. `INGEST_ID`, `MEDIA_DIR`). */
  env?: Record<string, string>;
}

/**
 * Where the platform's apps are reached from a browser or OBS, built by {@link platformUrls}: `web`, `commandApi`,
 * `queryApi`, `hls` are `http://host:port` (no trailing slash), `realtime` the edge's `ws://host:port/ws`, `rtmp`
 * the ingest's `rtmp://host:port/live` (OBS's server URL; the stream key is the stream name).
 */
export interface PlatformUrls {
  web: string;
  commandApi: string;
  queryApi: string;
  realtime: string;
  hls: string;
  rtmp: string;
  /** `rtmps://host:port/live`, the same for RTMP over TLS. */
  rtmps: string;
}

/**
 * How to tell that a process is up: an HTTP URL answering 2xx (`http`), or a TCP port accepting connections (`tcp`,
 * for servers without an HTTP health endpoint).
 */
export type HealthCheck = { http: string } | { tcp: { host: string; port: number } };

/**
 * One process of the platform. `command` is an executable path (for the apps: the Node binary running this code,
 * `process.execPath`, so every app runs on the same Node 22), started with `args` in `cwd`.
 */
export interface ProcessSpec {
  /** Unique name: the supervisor's process name, the log file's name (`<name>.log`), the key in pid maps. */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  /** Environment on top of the launcher's own `process.env`. */
  env: Record<string, string>;
  health: HealthCheck;
  /**
   * Start order: every process of stage n is healthy before stage n + 1 starts; one stage starts side by side.
   * (command-api is stage 1 because it migrates the event store.)
   */
  stage: number;
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
    rtmps: `rtmps://${host}:${ports.rtmps}/live`,
  };
}

/**
 * The platform's process specs for `o` on ports `p` (see {@link ProcessSpec}): the five apps, named after their
 * directories, then the extra {@link PlatformOptions.instances}.
 * @throws {Error} when an instance names an unknown app.
 */
export function platformProcesses(o: PlatformOptions, p: PlatformPorts): ProcessSpec[] {
  const extra = (o.instances ?? []).map((i): ProcessSpec => {
    const spec = appProcesses({ ...o, env: { ...o.env, ...i.env } }, { ...p, ...i.ports }).find((s) => s.name === i.app);
    if (!spec) throw new Error(`no app named ${i.app}`);
    return { ...spec, name: i.name, stage: Math.max(spec.stage, 2) };
  });
  return [...appProcesses(o, p), ...extra];
}

/** The five apps' specs on ports `p` (the first instance of each). */
function appProcesses(o: PlatformOptions, p: PlatformPorts): ProcessSpec[] {
  const r = (d: string) => join(o.rootDir, d);
  const host = o.publicHost;
  const shared: Record<string, string> = {
    ...o.env,
    COMMAND_API_PORT: String(p.commandApi),
    QUERY_API_PORT: String(p.queryApi),
    REALTIME_PORT: String(p.realtime),
    INGEST_RTMP_PORT: String(p.rtmp),
    INGEST_RTMPS_PORT: String(p.rtmps),
    INGEST_HTTP_PORT: String(p.hls),
    WEB_PORT: String(p.web),
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
    // Shown to streamers only when the ingest can open RTMPS (it has a certificate); else command-api answers null.
    if (shared['INGEST_TLS_CERT_FILE'] ?? process.env['INGEST_TLS_CERT_FILE']) shared['RTMPS_PUBLIC_URL'] = u.rtmps;
  }
  const local = (port: number, path: string) => ({ http: `http://127.0.0.1:${port}${path}` });
  // Each app gets only its own NATS user and password, nobody else's (nats-config.ts).
  const node = (name: string, dir: string, entry: string, stage: number, health: HealthCheck, env = shared, nodeFlags: readonly string[] = []): ProcessSpec => ({
    name,
    command: process.execPath,
    args: [...nodeFlags, entry],
    cwd: r(dir),
    env: withoutForeignSecrets(name, natsEnvFor(name, env)),
    health,
    stage,
  });
  return [
    node('command-api', 'apps/command-api', 'dist/main.js', 1, local(p.commandApi, '/health')),
    node('query-api', 'apps/query-api', 'dist/main.js', 2, local(p.queryApi, '/health')),
    node('realtime', 'apps/realtime', 'dist/main.js', 2, local(p.realtime, '/health')),
    node('ingest', 'apps/ingest', 'dist/main.js', 2, local(p.hls, '/health'), shared, INGEST_NODE_FLAGS),
    node('web', 'apps/web', 'build', 2, local(p.web, '/'), { ...shared, PORT: String(p.web), HOST: shared['HOST'] ?? '0.0.0.0' }),
  ];
}

/**
 * V8 flags of the ingest. Every broadcast moves its media through ≈ 5 Buffer copies a second (RTMP chunks, FLV/RTMP
 * messages in node-media-server, the packager's pipes, parts), and with V8's default initial old-space limit (≈ 1.35×
 * a 26-MB heap) each young collection started a full mark-compact: one every ≈ 2 s, 1.8 % of a core per 6-Mb/s
 * broadcast with a heap that did not grow (`--trace-gc`: "Start (allocation limit) 26MB / 35MB"). A 96-MB initial
 * old space removes them (3 instead of 22 in 40 s; bench/results/ingest-cpu.md) for ≈ 70 MB more address space.
 */
export const INGEST_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=96'];

/** Secrets only some apps may hold, by variable: RESTREAM_KEY_SECRET unseals restream-target keys (issue 10 item 7). */
const APP_ONLY_SECRETS: Readonly<Record<string, readonly string[]>> = { RESTREAM_KEY_SECRET: ['command-api', 'ingest'] };

/** `env` without the {@link APP_ONLY_SECRETS} that `app` may not hold. */
function withoutForeignSecrets(app: string, env: Record<string, string>): Record<string, string> {
  const out = { ...env };
  for (const [name, apps] of Object.entries(APP_ONLY_SECRETS)) if (!apps.includes(app)) delete out[name];
  return out;
}

/** Groups `specs` by {@link ProcessSpec.stage}, lowest stage first. */
export function byStage(specs: ProcessSpec[]): ProcessSpec[][] {
  const stages = [...new Set(specs.map((s) => s.stage))].sort((a, b) => a - b);
  return stages.map((n) => specs.filter((s) => s.stage === n));
}

/**
 * One probe of `check`: true when the URL answered 2xx within 2 s, or the TCP port accepted a connection.
 * Never throws.
 */
export async function probe(check: HealthCheck): Promise<boolean> {
  if ('http' in check) {
    try {
      const res = await fetch(check.http, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }
  const { connect } = await import('node:net');
  return new Promise<boolean>((resolve) => {
    const s = connect(check.tcp, () => {
      s.destroy();
      resolve(true);
    });
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
    s.on('error', () => resolve(false));
  });
}

/** What `check` polls, for messages: the URL or `tcp://host:port`. */
export function describeHealth(check: HealthCheck): string {
  return 'http' in check ? check.http : `tcp://${check.tcp.host}:${check.tcp.port}`;
}

/**
 * Polls `check` every 250 ms until it passes.
 * @param gone called before each probe; a string return (the reason, e.g. "exited with code 1") stops the wait.
 * @throws {Error} when `gone` reports a reason or after `timeoutMs`.
 */
export async function waitHealthy(check: HealthCheck, timeoutMs: number, gone: () => string | null | Promise<string | null> = () => null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const reason = await gone();
    if (reason) throw new Error(`${reason} before ${describeHealth(check)} answered`);
    if (await probe(check)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${describeHealth(check)} did not answer within ${timeoutMs} ms`);
}
