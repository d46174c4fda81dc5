/**
 * End-to-end harness: a whole platform on private ports, a private NATS server, a fresh PostgreSQL database and a
 * temporary media directory, so a run never touches a platform started with the quick start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, startPlatform, startPrivateNats, type AppInstance, type PlatformPorts, type RunningPlatform, type PrivateNatsServer } from '@eventcast/launcher';
import { createTestDatabase, type TestDatabase } from '@eventcast/platform';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Everything a test needs to reach the platform it started. */
export interface E2eEnv {
  platform: RunningPlatform;
  db: TestDatabase;
  nats: PrivateNatsServer;
  mediaDir: string;
  /** RECORDINGS_DIR of the platform: the local-disk media storage (recordings, clips). */
  recordingsDir: string;
  logDir: string;
  dispose(): Promise<void>;
}

/** One free loopback port for each of the platform's listeners. */
export async function freePlatformPorts(): Promise<PlatformPorts> {
  return {
    commandApi: await freePort(),
    queryApi: await freePort(),
    realtime: await freePort(),
    rtmp: await freePort(),
    rtmps: await freePort(),
    hls: await freePort(),
    web: await freePort(),
  };
}

/**
 * Starts the platform on free ports (public host 127.0.0.1). Apps log at `debug` unless `logLevel` says otherwise.
 * `instances` adds more processes of the scalable apps (scale-out, libs/launcher `AppInstance`), given the first
 * instance's ports; `natsMonitor` opens the NATS server's monitoring port (`env.nats.monitorUrl`).
 */
export async function startE2ePlatform(
  options: { logLevel?: string; env?: Record<string, string>; natsMonitor?: boolean; instances?: (ports: PlatformPorts) => AppInstance[] } = {},
): Promise<E2eEnv> {
  const db = await createTestDatabase('eventcast_e2e');
  // The platform's NATS authorization model (users and permissions per app, no anonymous access).
  const nats = await startPrivateNats({ auth: true, ...(options.natsMonitor ? { monitor: true } : {}) });
  const work = mkdtempSync(join(tmpdir(), 'eventcast-e2e-'));
  const mediaDir = join(work, 'media');
  const recordingsDir = join(work, 'recordings');
  const logDir = join(work, 'logs');
  const ports = await freePlatformPorts();
  let platform: RunningPlatform;
  try {
    platform = await startPlatform({
      rootDir: ROOT,
      env: {
        DATABASE_URL: db.url,
        // NATS_URL and every app's password; the launcher gives each app only its own (natsEnvFor).
        ...nats.secretsEnv(),
        MEDIA_DIR: mediaDir,
        RECORDINGS_DIR: recordingsDir,
        JWT_SECRET: randomBytes(32).toString('hex'),
        STREAM_KEY_SECRET: randomBytes(32).toString('hex'),
        INGEST_PUBLISH_GRACE_MS: '1000',
        // Every test client connects from 127.0.0.1: the per-IP connection limit (tested in apps/realtime) would
        // otherwise ration a suite that opens ~20 sockets in a few seconds.
        REALTIME_CONNECTIONS_PER_IP_PER_10S: '1000',
        // Likewise command-api's budgets (tested in apps/command-api core/rate-limits.test.ts), counted under this
        // platform's own Redis keys (the machine's Redis is shared by every platform of a run).
        RATE_LIMITS: 'auth=1000/1m, api=100000/1m',
        RATE_LIMIT_KEY_PREFIX: `eventcast:rl:${db.name}`,
        LOG_LEVEL: options.logLevel ?? 'debug',
        ...options.env,
      },
      ports,
      logDir,
      publicHost: '127.0.0.1',
      ...(options.instances ? { instances: options.instances(ports) } : {}),
    });
  } catch (e) {
    await nats.dispose();
    await db.drop();
    throw e;
  }
  return {
    platform,
    db,
    nats,
    mediaDir,
    recordingsDir,
    logDir,
    async dispose() {
      await platform.stop();
      // Every app did its job within its own NATS permissions (docs/contracts.md): no violation was logged.
      const violations = nats.permissionViolations();
      await nats.dispose();
      await db.drop();
      if (!process.env['E2E_KEEP_LOGS']) rmSync(work, { recursive: true, force: true });
      else process.stderr.write(`e2e logs kept in ${logDir}\n`);
      if (violations.length > 0) throw new Error(`NATS permission violations during the run:\n${violations.join('\n')}`);
    },
  };
}

/**
 * Opens `username`'s channel page in a new page of `browser` once the read model knows the channel (a page that got
 * 404 says "not found" for good, it never retries) and waits until it shows "Offline".
 * @throws when query-api does not know the channel within 30 s or the page does not show "Offline" within 20 s.
 */
export async function openOfflineChannelPage(browser: Browser, env: E2eEnv, username: string): Promise<Page> {
  await eventually('the new channel in the read model', async () => (await fetch(`${env.platform.urls.queryApi}/channels/${username}`)).ok, 30_000);
  const page = await browser.newPage();
  await page.goto(`${env.platform.urls.web}/${username}`);
  await page.getByTestId('live-status').filter({ hasText: 'Offline' }).waitFor({ timeout: 20_000 });
  return page;
}

/** Launches Debian's Chromium headless with the flags this machine needs (see ARCHITECTURE.md). */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    headless: true,
  });
}

/** An ffmpeg process publishing a test pattern over RTMP as OBS does (H.264 + AAC in FLV, 1 s keyframe interval). */
export interface Publisher {
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  stderr(): string;
  stop(): Promise<void>;
}

/**
 * Publishes `testsrc2` + a sine tone to `rtmpUrl` in real time. `overlayClock` burns the wall clock (ms) into the
 * picture for glass-to-glass measurements.
 */
export function publishTestStream(rtmpUrl: string, opts: { seconds?: number; overlayClock?: boolean } = {}): Publisher {
  // setpts with RTCTIME makes the frame time the wall clock (µs), drawtext burns it in as an 8-digit millisecond
  // counter (epoch ms mod 1e8), then frames are renumbered for the encoder.
  const vf = opts.overlayClock
    ? ['-vf', "setpts=RTCTIME/(TB*1000000),drawtext=text='%{eif\\:mod(t*1000\\,100000000)\\:d\\:8}':x=16:y=16:fontsize=56:fontcolor=white:box=1:boxcolor=black:boxborderw=8,setpts=N/(30*TB)"]
    : [];
  const args = [
    '-hide_banner', '-loglevel', 'warning', '-re',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=30',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    ...vf,
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '30', '-keyint_min', '30', '-b:v', '1000k',
    '-c:a', 'aac', '-b:a', '128k', '-ar', '48000',
    ...(opts.seconds ? ['-t', String(opts.seconds)] : []),
    '-f', 'flv', rtmpUrl,
  ];
  return spawnPublisher(args);
}

/**
 * Runs `ffmpeg <args>` (a publisher: its output is an RTMP URL in `args`) with the last 4000 characters of stderr kept;
 * `stop()` sends SIGINT (ffmpeg closes the stream cleanly), SIGKILL after 5 s.
 */
export function spawnPublisher(args: readonly string[]): Publisher {
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    exited,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Polls `check` every 200 ms until it returns a truthy value; rejects with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last instanceof Error ? last.message : JSON.stringify(last))}` : ''}`);
}
