/**
 * The latency floor of issue 10: the plain 1-s-segment HLS pipeline a hobby stack would build, with no platform —
 * node-media-server (the npm package, default settings, RTMP only) → on each publish, ffmpeg copying the stream into
 * 1-s MPEG-TS HLS (`-c copy -f hls -hls_time 1 -hls_list_size 6`, the flags the platform's packager used before
 * issue 10, ARCHITECTURE.md) in a temporary directory → a static `node:http` server (with CORS) → a minimal page
 * running hls.js with its default live settings (`new Hls()`: liveSyncDurationCount 3; lowLatencyMode is moot
 * without parts).
 *
 * Run as its own process tree (so its CPU is its own): `node bench/dist/floor-hls.js --rtmp-port P --http-port Q`.
 * Prints one JSON line `{"ready":true,…}` on stdout when listening; SIGTERM/SIGINT stops every ffmpeg and removes
 * the directory. Publish to `rtmp://127.0.0.1:P/live/<name>`, watch `http://127.0.0.1:Q/watch/<name>`, playlist at
 * `http://127.0.0.1:Q/hls/<name>/index.m3u8`. {@link startFloor} spawns it from a benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '@eventcast/launcher';
import { spawnChild, type Child } from './video/common.js';

/** A running floor pipeline (see the module comment). */
export interface Floor {
  pid: number;
  rtmpUrl(name: string): string;
  pageUrl(name: string): string;
  playlistUrl(name: string): string;
  /** Stops the floor process (its ffmpegs are killed and its directory removed). */
  dispose(): Promise<void>;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** ffmpeg arguments of the floor's packager (plain HLS, 1-s target segments, MPEG-TS). */
export function floorFfmpegArgs(inputUrl: string, outDir: string): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-rw_timeout', '3000000',
    '-i', inputUrl, '-map', '0:v?', '-map', '0:a?', '-c', 'copy',
    '-f', 'hls', '-hls_time', '1', '-hls_list_size', '6',
    '-hls_flags', 'delete_segments+independent_segments+program_date_time+temp_file',
    '-hls_segment_filename', join(outDir, 'seg%d.ts'), join(outDir, 'index.m3u8'),
  ];
}

/** The minimal viewer page: polls for the playlist (250 ms) so it can be opened before the publish, then hls.js defaults. */
function pageHtml(name: string): string {
  const url = `/hls/${name}/index.m3u8`;
  return `<!doctype html><meta charset="utf-8"><title>floor ${name}</title>
<style>body{margin:0;background:#000}video{width:1280px;height:720px}</style>
<video data-testid="player" muted autoplay playsinline></video>
<script src="/hls.js"></script>
<script>
const v = document.querySelector('video');
async function start() {
  for (;;) {
    try { if ((await fetch(${JSON.stringify(url)}, { cache: 'no-store' })).ok) break; } catch {}
    await new Promise((r) => setTimeout(r, 250));
  }
  const hls = new Hls();
  window.__hls = hls;
  hls.on(Hls.Events.MANIFEST_PARSED, () => v.play().catch(() => {}));
  hls.loadSource(${JSON.stringify(url)});
  hls.attachMedia(v);
}
start();
</script>`;
}

const TYPES: Record<string, string> = { '.m3u8': 'application/vnd.apple.mpegurl', '.ts': 'video/mp2t', '.js': 'text/javascript' };

async function serve(): Promise<void> {
  const { values } = parseArgs({ options: { 'rtmp-port': { type: 'string' }, 'http-port': { type: 'string' } } });
  const rtmpPort = Number(values['rtmp-port']);
  const httpPort = Number(values['http-port']);
  if (!(rtmpPort > 0 && httpPort > 0)) throw new Error('usage: floor-hls --rtmp-port P --http-port Q');
  const dir = mkdtempSync(join(tmpdir(), 'bench-floor-hls-'));
  const require = createRequire(import.meta.url);
  const hlsJs = require.resolve('hls.js/dist/hls.min.js');
  interface Session {
    streamApp: string;
    streamName: string;
  }
  type NmsCtor = new (config: Record<string, unknown>) => { on(e: string, cb: (s: Session) => void): void; rtmpServer: { run(): void } };
  const NodeMediaServer = require('node-media-server') as NmsCtor;
  const nms = new NodeMediaServer({ bind: '127.0.0.1', rtmp: { port: rtmpPort } });
  (require('node-media-server/src/core/logger.js') as { level: string }).level = 'error';
  const packagers = new Map<string, ChildProcess>();
  nms.on('postPublish', (s) => {
    if (!NAME.test(s.streamName) || packagers.has(s.streamName)) return;
    const out = join(dir, s.streamName);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const c = spawn('ffmpeg', floorFfmpegArgs(`rtmp://127.0.0.1:${rtmpPort}/${s.streamApp}/${s.streamName}`, out), { stdio: 'ignore' });
    packagers.set(s.streamName, c);
    c.once('exit', () => packagers.get(s.streamName) === c && packagers.delete(s.streamName));
  });
  nms.on('donePublish', (s) => {
    packagers.get(s.streamName)?.kill('SIGKILL');
    packagers.delete(s.streamName);
    rmSync(join(dir, s.streamName), { recursive: true, force: true });
  });
  nms.rtmpServer.run();

  const http = createServer((req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const send = (status: number, body: string, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (path === '/hls.js') {
      res.writeHead(200, { 'content-type': TYPES['.js'] ?? 'text/javascript' });
      createReadStream(hlsJs).pipe(res);
      return;
    }
    const watch = /^\/watch\/([A-Za-z0-9_-]{1,64})$/.exec(path);
    if (watch?.[1]) return send(200, pageHtml(watch[1]), 'text/html');
    const m = /^\/hls\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_.-]{1,64})$/.exec(path);
    const file = m?.[1] && m[2] ? resolve(dir, m[1], m[2]) : null;
    if (!file || !file.startsWith(dir) || file.endsWith('.tmp') || !existsSync(file) || !statSync(file).isFile()) return send(404, 'not found');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
  await new Promise<void>((r) => http.listen(httpPort, '127.0.0.1', r));
  const stop = () => {
    for (const c of packagers.values()) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ ready: true, rtmpPort, httpPort, dir })}\n`);
}

/** Spawns the floor as its own process on free ports and waits until it listens (≤ 15 s). */
export async function startFloor(): Promise<Floor> {
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const self = fileURLToPath(import.meta.url);
  const c: Child = spawnChild(process.execPath, [self, '--rtmp-port', String(rtmpPort), '--http-port', String(httpPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = c.child.stdout;
  if (!stdout) throw new Error('floor: no stdout');
  await new Promise<void>((resolveReady, reject) => {
    const t = setTimeout(() => reject(new Error(`floor did not start within 15 s: ${c.stderr()}`)), 15_000);
    void c.exited.then((code) => reject(new Error(`floor exited (${code}): ${c.stderr()}`)));
    // node-media-server logs a banner on stdout at construction: wait for the ready line among them.
    const lines = createInterface({ input: stdout });
    lines.on('line', (l) => {
      if (!l.includes('"ready":true')) return;
      clearTimeout(t);
      lines.removeAllListeners('line');
      stdout.resume();
      resolveReady();
    });
  });
  const http = `http://127.0.0.1:${httpPort}`;
  return {
    pid: c.pid,
    rtmpUrl: (name) => `rtmp://127.0.0.1:${rtmpPort}/live/${name}`,
    pageUrl: (name) => `${http}/watch/${name}`,
    playlistUrl: (name) => `${http}/hls/${name}/index.m3u8`,
    dispose: () => c.stop(5000).then(() => undefined),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await serve();
}
