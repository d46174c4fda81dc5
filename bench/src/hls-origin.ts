/**
 * HLS origin benchmark (issue 10 item 8). In one run, on the same files:
 * 1. nginx (Debian nginx-light, one worker, serving from disk with sendfile, access log off) and the ingest's
 *    uWebSockets.js origin (apps/ingest/dist/live/origin.js, in its own process, serving from memory): autocannon with
 *    200 connections for `--seconds` (10) per resource — a media playlist, a 1-s segment (3 Mb/s ≈ 375 KB) and a 200-ms
 *    part (≈ 75 KB). Reported: req/s, p99 latency, and requests per server CPU-second (utime+stime of the server's
 *    processes from /proc/<pid>/stat over the run). Target: origin ≥ 0.5 × nginx per CPU-second.
 * 2. Blocking reloads: `--held` (200) clients held on the next part's playlist (`_HLS_msn`/`_HLS_part`) while the
 *    origin process publishes a part every 200 ms; reported: answers per part and the p99 from publish to answer.
 * 3. LL-HLS viewers at 3 Mb/s: simulated viewers each do, per part, a blocking playlist reload and a GET of the
 *    preload-hinted part (held until it exists), on keep-alive connections; the count doubles every step until the
 *    p99 of part delivery (publish → last byte at the viewer) exceeds the part duration (0.2 s).
 * The load generator runs in this process on the same machine: the figures are a floor for the servers.
 * Writes bench/results/hls-origin.json and .md.
 * Usage: node bench/dist/hls-origin.js [--seconds 10] [--held 200] [--max-viewers 3200] [--step-seconds 8]
 * Internal: `--serve <dir>` runs the origin process (fed store; writes the same files to <dir>).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir, totalmem, loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    held: { type: 'string', default: '200' },
    'max-viewers': { type: 'string', default: '3200' },
    'step-seconds': { type: 'string', default: '8' },
    serve: { type: 'string' },
    /** Only this resource of part 1 (`playlist`, `segment`, `part`), then stop (profiling). */
    only: { type: 'string' },
  },
});
const PART_MS = 200;
const PART_BYTES = 75_000; // 3 Mb/s × 0.2 s
const PARTS_PER_SEGMENT = 5;

/** Minimal shapes of the ingest modules (an app, so loaded by path rather than as a library). */
interface Store {
  open(u: string): { epoch: string; rendition(n: string): { init(b: Buffer, d: object): void; part(p: object): void; nextPartN: number; segmentUri(m: number): string; partUri(n: number): string; lastPart(): { msn: number; index: number } | null } };
}

async function serve(dir: string): Promise<void> {
  const dist = path.join(ROOT, 'apps', 'ingest', 'dist', 'live');
  const { LiveMediaStore } = (await import(pathToFileURL(path.join(dist, 'store.js')).href)) as { LiveMediaStore: new (o: object) => Store };
  const { createLiveOrigin } = (await import(pathToFileURL(path.join(dist, 'origin.js')).href)) as { createLiveOrigin: (o: object, h: string, p: number) => Promise<{ port: number }> };
  const { renderMediaPlaylist } = (await import(pathToFileURL(path.join(dist, 'playlist.js')).href)) as { renderMediaPlaylist: (r: unknown) => string };
  const silent = { info() {}, warn() {}, error() {}, debug() {} };
  const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: PART_MS / 1000, targetDurationSeconds: 1 });
  // Every simulated viewer comes from 127.0.0.1: no per-client cap on held requests (INGEST_HLS_MAX_HELD_PER_CLIENT).
  const origin = await createLiveOrigin({ store, isReady: () => true, log: silent, metricsToken: null, maxHeldPerClient: 0 }, '127.0.0.1', 0);
  const ch = store.open('bench');
  const r = ch.rendition('source');
  r.init(Buffer.alloc(1200, 1), { name: 'source', codecs: 'avc1.64001f,mp4a.40.2', width: 1280, height: 720, frameRate: 30, bandwidth: 3_000_000, transcoded: false });
  let n = 0;
  const t0 = Date.now();
  const publish = () => {
    r.part({ data: Buffer.alloc(PART_BYTES, n & 0xff), durationSeconds: PART_MS / 1000, independent: n % PARTS_PER_SEGMENT === 0, programDateTimeMs: t0 + n * PART_MS });
    n++;
  };
  for (let i = 0; i < 3 * PARTS_PER_SEGMENT; i++) publish();
  // The same files for nginx: the playlist as rendered now, one whole segment, one part.
  mkdirSync(path.join(dir, 'hls', 'bench'), { recursive: true });
  writeFileSync(path.join(dir, 'hls', 'bench', 'source.m3u8'), renderMediaPlaylist(r));
  writeFileSync(path.join(dir, 'hls', 'bench', 'seg.m4s'), Buffer.alloc(PART_BYTES * PARTS_PER_SEGMENT, 7));
  writeFileSync(path.join(dir, 'hls', 'bench', 'part.m4s'), Buffer.alloc(PART_BYTES, 7));
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'live') {
      // Real time from now on: part n is published at liveT0 + (n - firstLive) × 200 ms.
      const liveT0 = Date.now() + PART_MS;
      const first = n;
      const tick = () => {
        publish();
        const next = liveT0 + (n - first) * PART_MS;
        setTimeout(tick, Math.max(0, next - Date.now()));
      };
      setTimeout(tick, PART_MS);
      process.send?.({ live: { t0: liveT0, first } });
    }
  });
  process.send?.({ port: origin.port, epoch: ch.epoch, segment: r.segmentUri(1), part: r.partUri(7) });
}

/** utime+stime in seconds of `pids` (and their children), from /proc. */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  const all = new Set<number>();
  const walk = (pid: number) => {
    if (all.has(pid)) return;
    all.add(pid);
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) walk(Number(c));
    } catch {
      // gone
    }
  };
  pids.forEach(walk);
  for (const pid of all) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return ticks / 100;
}

interface LoadResult { name: string; server: string; reqPerSec: number; p99Ms: number; non2xx: number; cpuSeconds: number; reqPerCpuSecond: number }

async function load(server: string, name: string, url: string, pids: number[], seconds: number): Promise<LoadResult> {
  const c0 = cpuSeconds(pids);
  const r = await autocannon({ url, connections: 200, duration: seconds, pipelining: 1 });
  const cpu = cpuSeconds(pids) - c0;
  const total = r.requests.total;
  const res = { name, server, reqPerSec: Math.round(r.requests.average), p99Ms: r.latency.p99, non2xx: r.non2xx + r.errors, cpuSeconds: Math.round(cpu * 100) / 100, reqPerCpuSecond: Math.round(total / Math.max(cpu, 0.01)) };
  console.log(JSON.stringify(res));
  return res;
}

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.99 * s.length))] ?? NaN;
}

function getBody(agent: http.Agent, port: number, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function main(): Promise<void> {
  const seconds = Number(values.seconds);
  const dir = mkdtempSync(path.join(tmpdir(), 'hls-origin-bench-'));
  chmodSync(dir, 0o755); // nginx's worker runs as an unprivileged user
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const info = await new Promise<{ port: number; epoch: string; segment: string; part: string }>((resolve) => child.once('message', (m) => resolve(m as never)));
  const nginxPort = 14480;
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, `daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp; uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  types { application/vnd.apple.mpegurl m3u8; video/mp4 m4s; }
  server { listen 127.0.0.1:${nginxPort}; root ${dir};
    location ~ \\.m3u8$ { add_header Cache-Control no-cache; add_header Access-Control-Allow-Origin *; }
    location ~ \\.m4s$ { add_header Cache-Control "public, max-age=12, immutable"; add_header Access-Control-Allow-Origin *; } } }
`);
  mkdirSync(path.join(dir, 'tmp'));
  const nginx = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'inherit' });
  await new Promise((r) => setTimeout(r, 500));
  const results: LoadResult[] = [];
  const o = `http://127.0.0.1:${info.port}/hls/bench`;
  const n = `http://127.0.0.1:${nginxPort}/hls/bench`;
  try {
    for (const [name, ourPath, nginxPath] of [['playlist', 'source.m3u8', 'source.m3u8'], ['segment 1 s', info.segment, 'seg.m4s'], ['part 200 ms', info.part, 'part.m4s']] as const) {
      if (values.only && !name.startsWith(values.only)) continue;
      results.push(await load('nginx', name, `${n}/${nginxPath}`, [nginx.pid ?? 0], seconds));
      results.push(await load('origin', name, `${o}/${ourPath}`, [child.pid ?? 0], seconds));
    }
    nginx.kill('SIGTERM');
    if (values.only) return;
    // Live from here on.
    child.send({ cmd: 'live' });
    const live = await new Promise<{ t0: number; first: number }>((resolve) => child.on('message', (m: { live?: { t0: number; first: number } }) => m.live && resolve(m.live)));
    const publishedAt = (partN: number) => live.t0 + (partN - live.first) * PART_MS;
    const msnOf = (partN: number) => ({ msn: Math.floor(partN / PARTS_PER_SEGMENT), part: partN % PARTS_PER_SEGMENT });

    // 2. N clients held on the next part's playlist.
    const heldClients = Number(values.held);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 100_000 });
    const heldLatencies: number[] = [];
    for (let round = 0; round < 10; round++) {
      const target = Math.ceil((Date.now() - live.t0) / PART_MS) + live.first + 1;
      const { msn, part } = msnOf(target);
      const done = await Promise.all(Array.from({ length: heldClients }, () => getBody(agent, info.port, `/hls/bench/source.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`).then((s) => ({ s, at: Date.now() }))));
      for (const d of done) if (d.s === 200) heldLatencies.push(d.at - publishedAt(target));
    }
    const held = { clients: heldClients, answers: heldLatencies.length, p99MsFromPublish: p99(heldLatencies) };
    console.log(JSON.stringify({ held }));

    // 3. Viewers: per part, a blocking reload and the hinted part.
    const steps: { viewers: number; parts: number; p99Ms: number; errors: number; originCpuShare: number; loadGeneratorCpuShare: number }[] = [];
    const stepSeconds = Number(values['step-seconds']);
    for (let viewers = Math.min(50, Number(values['max-viewers'])); viewers <= Number(values['max-viewers']); viewers *= 2) {
      const lat: number[] = [];
      let errors = 0;
      let stop = false;
      const c0 = cpuSeconds([child.pid ?? 0]);
      const g0 = process.cpuUsage();
      const t0 = Date.now();
      const viewer = async () => {
        let partN = Math.ceil((Date.now() - live.t0) / PART_MS) + live.first;
        while (!stop) {
          const { msn, part } = msnOf(partN);
          try {
            const [ps, ds] = await Promise.all([
              getBody(agent, info.port, `/hls/bench/source.m3u8?_HLS_msn=${msn}&_HLS_part=${part}`),
              getBody(agent, info.port, `/hls/bench/source-${info.epoch}-p${partN}.m4s`),
            ]);
            if (ps !== 200 || ds !== 200) errors++;
            else lat.push(Date.now() - publishedAt(partN));
          } catch {
            errors++;
          }
          partN++;
          const behind = Math.ceil((Date.now() - live.t0) / PART_MS) + live.first - partN;
          if (behind > 3) partN += behind; // a viewer that falls behind skips ahead, like a player
        }
      };
      const all = Array.from({ length: viewers }, viewer);
      await new Promise((r) => setTimeout(r, stepSeconds * 1000));
      stop = true;
      await Promise.allSettled(all);
      const wall = (Date.now() - t0) / 1000;
      const share = (cpuSeconds([child.pid ?? 0]) - c0) / wall;
      const g = process.cpuUsage(g0);
      const gen = (g.user + g.system) / 1e6 / wall;
      const step = { viewers, parts: lat.length, p99Ms: p99(lat), errors, originCpuShare: Math.round(share * 100) / 100, loadGeneratorCpuShare: Math.round(gen * 100) / 100 };
      steps.push(step);
      console.log(JSON.stringify(step));
      if (!(step.p99Ms <= PART_MS) || errors > lat.length / 100) break;
    }
    agent.destroy();
    const ok = steps.filter((s) => s.p99Ms <= PART_MS && s.errors <= s.parts / 100);
    const maxViewers = ok.at(-1)?.viewers ?? 0;
    // When the load generator, not the origin, is the limit: viewers one origin core would serve at the measured cost.
    const best = ok.at(-1);
    const viewersPerOriginCore = best && best.originCpuShare > 0 ? Math.round(best.viewers / best.originCpuShare) : null;
    const ratio = (name: string) => {
      const a = results.find((r) => r.server === 'origin' && r.name === name);
      const b = results.find((r) => r.server === 'nginx' && r.name === name);
      return a && b ? Math.round((a.reqPerCpuSecond / b.reqPerCpuSecond) * 100) / 100 : NaN;
    };
    const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), loadavgAtStart: loadavg(), node: process.version, nginx: execFileSync('nginx', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() || 'nginx-light 1.22' };
    const out = { at: new Date().toISOString(), machine, note: `load generator (autocannon / node http) on the same 2-core machine${process.env['BENCH_NOTE'] ? `; ${process.env['BENCH_NOTE']}` : ''}`, seconds, connections: 200, results, ratios: { playlist: ratio('playlist'), segment: ratio('segment 1 s'), part: ratio('part 200 ms') }, held, viewers: { bitrate: '3 Mb/s', steps, maxViewersWithP99UnderPartDuration: maxViewers, viewersPerOriginCoreExtrapolated: viewersPerOriginCore } };
    mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(path.join(ROOT, 'bench', 'results', 'hls-origin.json'), JSON.stringify(out, null, 2) + '\n');
    const md = [
      `# HLS origin vs nginx (${out.at})`,
      '',
      `${machine.cpus} × ${machine.cpu}, Node ${machine.node}. ${out.note}.`,
      '',
      '| resource | server | req/s | p99 ms | server CPU s | req per CPU-second |',
      '|---|---|---|---|---|---|',
      ...results.map((r) => `| ${r.name} | ${r.server} | ${r.reqPerSec} | ${r.p99Ms} | ${r.cpuSeconds} | ${r.reqPerCpuSecond} |`),
      '',
      `Origin / nginx requests per CPU-second: playlist ${out.ratios.playlist}×, segment ${out.ratios.segment}×, part ${out.ratios.part}× (target ≥ 0.5×).`,
      '',
      `Blocking reload: ${held.clients} clients held on the next part, ${held.answers} answers over 10 parts, p99 publish → answer ${held.p99MsFromPublish} ms.`,
      '',
      '| LL-HLS viewers (3 Mb/s) | parts delivered | p99 publish → part received (ms) | errors | origin CPU (cores) | load generator CPU (cores) |',
      '|---|---|---|---|---|---|',
      ...steps.map((s) => `| ${s.viewers} | ${s.parts} | ${s.p99Ms} | ${s.errors} | ${s.originCpuShare} | ${s.loadGeneratorCpuShare} |`),
      '',
      `Viewers served with p99 part delivery ≤ ${PART_MS} ms: **${maxViewers}**; at the origin's measured CPU per viewer, one origin core would serve ≈ ${viewersPerOriginCore ?? '?'} (an extrapolation, meaningful when the load generator is the limit).`,
      '',
    ].join('\n');
    writeFileSync(path.join(ROOT, 'bench', 'results', 'hls-origin.md'), md);
    console.log(md);
  } finally {
    if (nginx.exitCode === null) nginx.kill('SIGTERM');
    child.kill('SIGTERM');
  }
}

if (values.serve) await serve(values.serve);
else await main().then(() => process.exit(0));
