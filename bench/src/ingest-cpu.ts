/**
 * Ingest CPU benchmark (issue 10, "How it is shown"): CPU per stream of the ingest (its node process and its ffmpeg
 * children, /proc/<pid>/stat) for passthrough, per ABR rendition, and how many concurrent passthrough broadcasts the
 * machine sustains with every sampled viewer still meeting the latency target.
 *
 * Phases (`--phases passthrough,ladder,ladder-platform,concurrency`):
 * 1. passthrough — the platform as the e2e tests start it; the ingest's CPU idle over `--idle-seconds`, then with one
 *    broadcast over `--seconds`: a pre-encoded source clip (`--source 1920x1080 --source-fps 30 --source-kbps 6000
 *    --gop 2`, x264 veryfast, made once and cached in $TMPDIR) published with `-re -stream_loop -1 -c copy`, so the
 *    publisher costs almost nothing. Per stream = with − idle.
 * 2. ladder — each ABR step alone (720p, 480p, 360p), the three together from one decode (split), a decode alone,
 *    and the source re-encoded with 1-s keyframes (the fix for long keyframe intervals): one ffmpeg per case reading
 *    the same clip in real time and writing fragmented MP4 to /dev/null with the packager's encoder arguments
 *    (libx264 veryfast zerolatency, constrained bitrate, `-sc_threshold 0`, `-force_key_frames source` or
 *    `expr:gte(t,n_forced*1)`; `-f mp4 -movflags empty_moov+default_base_moof+frag_keyframe+skip_trailer
 *    -frag_duration 200000 -flush_packets 1`). Those arguments are restated here from the packager
 *    (apps/ingest/src/live/ffmpeg-args.ts, ladder.ts: step heights and bitrates); keep them in step.
 * 2b. ladder-platform — the same steps through the platform: a platform per configuration started with
 *    `INGEST_RENDITIONS=source,720p` …, one broadcast, the ingest's CPU; plus a 4-s-GOP source (the platform
 *    re-encodes it with 1-s keyframes). Reported as skipped, with the reason, on a build without the ladder.
 * 3. concurrency — N = 1, 2, 4, 8, … (≤ `--max-broadcasts`) concurrent broadcasts: N − k pre-encoded `-c copy`
 *    publishers plus k = min(`--sampled`, N) live publishers with the wall clock burnt in (small and cheap: 640x360,
 *    x264 ultrafast, the same GOP), each watched on the real channel page in Chromium in low-latency mode; per step
 *    the ingest's CPU, glass-to-glass of the sampled viewers over `--step-seconds`, and whether every broadcast's
 *    media playlist still advances. It stops at the first step where a sampled viewer misses the target
 *    (p50 ≤ `--latency-target-ms` 1000, p95 ≤ 1300 ms, no stall) or a playlist stalls.
 * Writes bench/results/<out>.json and .md (default ingest-cpu).
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { launchChromium, startE2ePlatform, ROOT, type E2eEnv } from '@eventcast/e2e/harness';
import type { Browser } from 'playwright-core';
import { codeVersion } from './code-version.js';
import { machineCpu, sleep } from './fanout/proc.js';
import { encodeClip, publishClock, publishFile, type EncodeSettings } from './video/clock.js';
import { busyBetween, logger, machineInfo, quietGuard, refuseIfAnotherBenchmark, round, spawnChild, until, type Child, type QuietCheck } from './video/common.js';
import { measureCpu, totalPercent, type CpuWindow } from './video/cpu.js';
import { analyzeWindow, rejoin, sampleWindow, startViewing, type Viewing, type WindowResult } from './video/measure.js';
import { followParts, type PartDelivery } from './video/parts.js';
import { createChannel, describeHls, setLatencyMode, type BenchChannel, type PlaylistInfo } from './video/platform.js';

const { values } = parseArgs({
  options: {
    phases: { type: 'string', default: 'passthrough,ladder,ladder-platform,concurrency' },
    seconds: { type: 'string', default: '60' },
    'idle-seconds': { type: 'string', default: '20' },
    warmup: { type: 'string', default: '10' },
    'step-seconds': { type: 'string', default: '30' },
    'max-broadcasts': { type: 'string', default: '64' },
    sampled: { type: 'string', default: '2' },
    source: { type: 'string', default: '1920x1080' },
    'source-fps': { type: 'string', default: '30' },
    'source-kbps': { type: 'string', default: '6000' },
    gop: { type: 'string', default: '2' },
    'latency-target-ms': { type: 'string', default: '1000' },
    'p95-target-ms': { type: 'string', default: '1300' },
    'max-stalls': { type: 'string', default: '0' },
    'max-part-gap-ms': { type: 'string', default: '700' },
    'quiet-below': { type: 'string', default: '25' },
    'quiet-wait': { type: 'string', default: '180' },
    'require-quiet': { type: 'boolean', default: false },
    note: { type: 'string', default: '' },
    out: { type: 'string', default: 'ingest-cpu' },
  },
});

const log = logger('ingest-cpu');
const phases = new Set(values.phases.split(','));
const seconds = Number(values.seconds);
const idleSeconds = Number(values['idle-seconds']);
const warmup = Number(values.warmup);
const stepSeconds = Number(values['step-seconds']);
const maxBroadcasts = Number(values['max-broadcasts']);
const sampledMax = Number(values.sampled);
const [srcW, srcH] = values.source.split('x').map(Number);
const source: EncodeSettings = { width: srcW ?? 1920, height: srcH ?? 1080, fps: Number(values['source-fps']), gopSeconds: Number(values.gop), videoKbps: Number(values['source-kbps']), preset: 'veryfast' };
const sampledEncode: EncodeSettings = { width: 640, height: 360, fps: 30, gopSeconds: Number(values.gop), videoKbps: 1500, preset: 'ultrafast' };
const p50Target = Number(values['latency-target-ms']);
const p95Target = Number(values['p95-target-ms']);
const maxStalls = Number(values['max-stalls']);
const maxPartGapMs = Number(values['max-part-gap-ms']);

/**
 * The platform's settings for this benchmark: many accounts and RTMP connections from 127.0.0.1, and passthrough only
 * (`INGEST_RENDITIONS=source`; `auto` would add the ladder on a machine with enough cores).
 */
const PLATFORM_ENV = { RATE_LIMITS: 'auth=100000/1m, api=100000000/1m', INGEST_RTMP_MAX_CONNECTIONS_PER_IP: '100000', INGEST_RTMP_MAX_CONNECTIONS: '100000', INGEST_RENDITIONS: 'source' };

/** The source clip, encoded once per settings and cached. */
async function sourceClip(gopSeconds = source.gopSeconds): Promise<string> {
  const dir = join(tmpdir(), 'eventcast-bench-clips');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `testsrc2-${source.width}x${source.height}-${source.fps}fps-${source.videoKbps}k-g${gopSeconds}-${source.preset}.flv`);
  if (!existsSync(file)) {
    log(`encoding the 30-s source clip once: ${file}`);
    await encodeClip(`${file}.part.flv`, { ...source, gopSeconds }, 30);
    renameSync(`${file}.part.flv`, file);
  }
  return file;
}

/** Waits until `ch`'s playlist answers 200 (≤ 30 s). */
async function waitPlaylist(ch: BenchChannel): Promise<void> {
  await until(`the playlist of ${ch.username}`, async () => (await fetch(ch.playlistUrl)).ok, 30_000, 200);
}

/** The media playlist URL of a channel (its multivariant playlist's first variant, or the playlist itself). */
async function mediaPlaylistUrl(ch: BenchChannel): Promise<string> {
  const text = await (await fetch(ch.playlistUrl)).text();
  const lines = text.split('\n').map((l) => l.trim());
  const i = lines.findIndex((l) => l.startsWith('#EXT-X-STREAM-INF'));
  const uri = i >= 0 ? lines.slice(i + 1).find((l) => l && !l.startsWith('#')) : undefined;
  return uri ? new URL(uri, ch.playlistUrl).toString() : ch.playlistUrl;
}

/** True when the channel's media playlist changes within 3 s (the packager is live). */
async function advancing(ch: BenchChannel): Promise<boolean> {
  try {
    const url = await mediaPlaylistUrl(ch);
    const a = await (await fetch(url)).text();
    for (let i = 0; i < 15; i++) {
      await sleep(200);
      const r = await fetch(url);
      if (r.ok && (await r.text()) !== a) return true;
    }
    return false;
  } catch {
    return false;
  }
}

interface PassthroughResult {
  idle: CpuWindow;
  oneBroadcast: CpuWindow;
  perStreamPercentOfCore: number;
  platformServes: PlaylistInfo | null;
}

async function passthrough(env: E2eEnv, clip: string): Promise<PassthroughResult> {
  const ingest = env.platform.pids['ingest'] ?? 0;
  log(`passthrough: ingest idle for ${idleSeconds} s`);
  const idle = await measureCpu({ ingest }, () => sleep(idleSeconds * 1000));
  const ch = await createChannel(env, 'cpu');
  const pub = publishFile(ch.rtmpUrl, clip);
  try {
    await waitPlaylist(ch);
    const info = await describeHls(ch.playlistUrl).catch(() => null);
    await sleep(warmup * 1000);
    log(`passthrough: one broadcast for ${seconds} s`);
    const one = await measureCpu({ ingest }, () => sleep(seconds * 1000));
    const per = round(totalPercent(one) - totalPercent(idle), 2);
    log(`passthrough: ${per} % of a core per stream (${JSON.stringify(one.percentOfCore)})`);
    return { idle, oneBroadcast: one, perStreamPercentOfCore: per, platformServes: info };
  } finally {
    await pub.stop();
  }
}

/** One standalone ladder case: the ffmpeg arguments after the input. */
interface LadderCase {
  name: string;
  outputs: string[];
}

/** x264 options of an encoded rendition, as the packager writes them (ffmpeg-args.ts `x264`). */
function x264(kbps: number, keyframes: string): string[] {
  return ['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${kbps}k`, '-sc_threshold', '0', '-force_key_frames', keyframes];
}
const FMP4 = ['-f', 'mp4', '-movflags', 'empty_moov+default_base_moof+frag_keyframe+skip_trailer', '-frag_duration', '200000', '-flush_packets', '1', '/dev/null'];
/** Ladder steps (ladder.ts LADDER_STEPS). */
const STEPS = [
  { name: '720p', height: 720, kbps: 2800 },
  { name: '480p', height: 480, kbps: 1200 },
  { name: '360p', height: 360, kbps: 700 },
];

function ladderCases(): LadderCase[] {
  const steps = STEPS.filter((s) => s.height < source.height);
  const one = (s: (typeof STEPS)[number]): LadderCase => ({
    name: `${s.name} (${s.kbps} kb/s)`,
    outputs: ['-filter_complex', `[0:v:0]split=1[s0];[s0]scale=-2:${s.height},format=yuv420p[v0]`, '-map', '[v0]', ...x264(s.kbps, 'source'), '-map', '0:a:0?', '-c:a', 'copy', ...FMP4],
  });
  const all: LadderCase = {
    name: `${steps.map((s) => s.name).join(' + ')} (one decode, split)`,
    outputs: [
      '-filter_complex',
      [`[0:v:0]split=${steps.length}${steps.map((_s, i) => `[s${i}]`).join('')}`, ...steps.map((s, i) => `[s${i}]scale=-2:${s.height},format=yuv420p[v${i}]`)].join(';'),
      ...steps.flatMap((s, i) => ['-map', `[v${i}]`, ...x264(s.kbps, 'source'), '-map', '0:a:0?', '-c:a', 'copy', ...FMP4]),
    ],
  };
  return [
    { name: 'decode only (no encode)', outputs: ['-map', '0:v:0', '-f', 'null', '/dev/null'] },
    ...steps.map(one),
    all,
    {
      name: `source ${source.height}p re-encoded with 1-s keyframes (${source.videoKbps} kb/s)`,
      outputs: ['-filter_complex', '[0:v:0]split=1[s0];[s0]format=yuv420p[v0]', '-map', '[v0]', ...x264(source.videoKbps, 'expr:gte(t,n_forced*1)'), '-map', '0:a:0?', '-c:a', 'copy', ...FMP4],
    },
  ];
}

interface LadderResult {
  name: string;
  percentOfCore: number;
  /** ffmpeg's `speed` at the end (1 = keeping up with real time). */
  speed: number | null;
  error?: string;
}

async function ladder(clip: string): Promise<LadderResult[]> {
  const out: LadderResult[] = [];
  for (const c of ladderCases()) {
    const args = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-progress', 'pipe:1', '-stats_period', '1', '-re', '-stream_loop', '-1', '-i', clip, ...c.outputs];
    const ff = spawnChild('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let speed: number | null = null;
    if (ff.child.stdout) {
      createInterface({ input: ff.child.stdout }).on('line', (l) => {
        const m = /^speed=\s*([\d.]+)x/.exec(l);
        if (m?.[1]) speed = Number(m[1]);
      });
    }
    try {
      await sleep(5000);
      log(`ladder: ${c.name} for ${seconds} s`);
      if (ff.child.exitCode !== null) throw new Error(`ffmpeg for ${c.name} exited: ${ff.stderr()}`);
      const w = await measureCpu({ ffmpeg: ff.pid }, () => sleep(seconds * 1000));
      out.push({ name: c.name, percentOfCore: totalPercent(w), speed });
      log(`ladder: ${c.name}: ${totalPercent(w)} % of a core, speed ${String(speed)}`);
    } catch (e) {
      log(`ladder: ${c.name} failed: ${(e as Error).message}`);
      out.push({ name: c.name, percentOfCore: NaN, speed: null, error: (e as Error).message });
    } finally {
      await ff.stop(1000);
    }
  }
  return out;
}

/** One ladder configuration measured through the platform itself (`INGEST_RENDITIONS`). */
interface PlatformLadderResult {
  name: string;
  renditions: string;
  sourceGopSeconds: number;
  /** The ingest and its children, % of a core by label, and in total. */
  cpu: CpuWindow | null;
  totalPercentOfCore: number | null;
  /** Total minus the passthrough stream of phase 1 (null when phase 1 did not run). */
  overPassthroughPercentOfCore: number | null;
  platformServes: PlaylistInfo | null;
  /** Why the case measured nothing (the platform has no ladder setting, did not re-encode, …). */
  skipped?: string;
}

/**
 * The ladder as the platform runs it: for each configuration a platform started with `INGEST_RENDITIONS`, one
 * broadcast of the clip, the ingest's CPU over `--seconds`; and the keyframe fix: a 4-s-GOP clip with the default
 * ladder (the platform re-encodes the source with 1-s keyframes). A configuration the platform does not carry out
 * (fewer variants than asked, no libx264 child) is reported as skipped with the reason.
 */
async function ladderPlatform(passthroughPercent: number | null): Promise<PlatformLadderResult[]> {
  const steps = STEPS.filter((x) => x.height < source.height).map((x) => x.name);
  const cases = [
    ...steps.map((n) => ({ name: n, renditions: `source,${n}`, gop: source.gopSeconds, variants: 2, transcode: true })),
    { name: steps.join(' + '), renditions: ['source', ...steps].join(','), gop: source.gopSeconds, variants: steps.length + 1, transcode: true },
    { name: 'keyframe fix: 4-s GOP source re-encoded', renditions: 'source', gop: 4, variants: 1, transcode: true },
  ];
  const out: PlatformLadderResult[] = [];
  for (const c of cases) {
    const clip = await sourceClip(c.gop);
    const env = await startE2ePlatform({ logLevel: 'warn', env: { ...PLATFORM_ENV, INGEST_RENDITIONS: c.renditions } });
    const ingest = env.platform.pids['ingest'] ?? 0;
    const base = { name: c.name, renditions: c.renditions, sourceGopSeconds: c.gop };
    try {
      const ch = await createChannel(env, 'cpul');
      const pub = publishFile(ch.rtmpUrl, clip);
      try {
        await waitPlaylist(ch);
        await sleep(warmup * 1000);
        const info = await describeHls(ch.playlistUrl).catch(() => null);
        if ((info?.variants ?? 1) < c.variants) {
          out.push({ ...base, cpu: null, totalPercentOfCore: null, overPassthroughPercentOfCore: null, platformServes: info, skipped: `the platform serves ${info?.variants ?? 1} variant(s), not ${c.variants}: no INGEST_RENDITIONS ladder in this build` });
          continue;
        }
        log(`ladder via the platform: ${c.name} (INGEST_RENDITIONS=${c.renditions}, ${c.gop}-s GOP) for ${seconds} s`);
        const cpu = await measureCpu({ ingest }, () => sleep(seconds * 1000));
        const total = totalPercent(cpu);
        if (c.transcode && !cpu.processes['ffmpeg transcode']) {
          out.push({ ...base, cpu, totalPercentOfCore: total, overPassthroughPercentOfCore: null, platformServes: info, skipped: 'no libx264 ffmpeg under the ingest: the platform did not encode' });
          continue;
        }
        const over = passthroughPercent === null ? null : round(total - passthroughPercent, 2);
        log(`ladder via the platform: ${c.name}: ${total} % of a core (${JSON.stringify(cpu.percentOfCore)})`);
        out.push({ ...base, cpu, totalPercentOfCore: total, overPassthroughPercentOfCore: over, platformServes: info });
      } finally {
        await pub.stop();
      }
    } catch (e) {
      out.push({ ...base, cpu: null, totalPercentOfCore: null, overPassthroughPercentOfCore: null, platformServes: null, skipped: `failed: ${(e as Error).message}` });
    } finally {
      await env.dispose().catch((e: unknown) => log(`dispose: ${String(e)}`));
    }
  }
  return out;
}

interface StepResult {
  broadcasts: number;
  sampled: number;
  cpu: CpuWindow;
  ingestPercentOfCore: number;
  machineBusyPercent: number;
  viewers: (WindowResult & { modeSource: string })[];
  playlistsAdvancing: number;
  /** Every broadcast's part delivery over the window, followed with blocking reloads as an LL-HLS player does. */
  partDelivery: PartDelivery[];
  pass: boolean;
  why: string[];
}

async function concurrency(env: E2eEnv, browser: Browser, clip: string): Promise<StepResult[]> {
  const ingest = env.platform.pids['ingest'] ?? 0;
  const copies: { ch: BenchChannel; pub: Child }[] = [];
  const sampled: { ch: BenchChannel; viewing: Viewing; modeSource: string }[] = [];
  const steps: StepResult[] = [];
  try {
    for (let n = 1; n <= maxBroadcasts; n *= 2) {
      const k = Math.min(sampledMax, n);
      while (sampled.length < k) {
        const ch = await createChannel(env, 'cpus');
        const modeSource = await setLatencyMode(env, ch, 'low');
        const clientMode = modeSource === 'client' ? 'low' : 'none';
        const viewing = await startViewing(browser, ch.pageUrl, clientMode, () => publishClock(ch.rtmpUrl, sampledEncode));
        await rejoin(browser, viewing, ch.pageUrl, clientMode);
        sampled.push({ ch, viewing, modeSource });
      }
      const added: BenchChannel[] = [];
      while (copies.length < n - k) {
        const ch = await createChannel(env, 'cpuc');
        copies.push({ ch, pub: publishFile(ch.rtmpUrl, clip) });
        added.push(ch);
      }
      await Promise.all(added.map(waitPlaylist));
      await sleep(warmup * 1000);
      log(`concurrency: ${n} broadcasts (${k} sampled), ${stepSeconds} s`);
      const m0 = machineCpu();
      let raws: Awaited<ReturnType<typeof sampleWindow>>[] = [];
      let partDelivery: PartDelivery[] = [];
      const all = [...copies.map((c) => c.ch), ...sampled.map((s) => s.ch)];
      const mediaUrls = await Promise.all(all.map(mediaPlaylistUrl));
      const cpu = await measureCpu({ ingest }, async () => {
        const untilMs = Date.now() + stepSeconds * 1000;
        [raws, partDelivery] = await Promise.all([
          Promise.all(sampled.map((s) => sampleWindow(s.viewing.page, stepSeconds))),
          Promise.all(mediaUrls.map((u) => followParts(u, untilMs))),
        ]);
      });
      const busy = busyBetween(m0, machineCpu());
      const adv = (await Promise.all(all.map(advancing))).filter(Boolean).length;
      const viewers = await Promise.all(raws.map(async (r, i) => ({ ...(await analyzeWindow(r)), modeSource: sampled[i]?.modeSource ?? '?' })));
      const why: string[] = [];
      viewers.forEach((v, i) => {
        if (!(v.glassToGlassMs.p50 <= p50Target)) why.push(`viewer ${i + 1}: p50 ${v.glassToGlassMs.p50} ms > ${p50Target}`);
        if (!(v.glassToGlassMs.p95 <= p95Target)) why.push(`viewer ${i + 1}: p95 ${v.glassToGlassMs.p95} ms > ${p95Target}`);
        if (v.waitingEvents + v.bufferStalledErrors > maxStalls) why.push(`viewer ${i + 1}: ${v.waitingEvents + v.bufferStalledErrors} stalls`);
      });
      if (adv < all.length) why.push(`${all.length - adv} of ${all.length} playlists not advancing`);
      const late = partDelivery.filter((d) => !(d.maxGapMs <= maxPartGapMs)).length;
      if (late > 0) why.push(`${late} of ${all.length} broadcasts with a gap between parts > ${maxPartGapMs} ms`);
      const step: StepResult = { broadcasts: n, sampled: k, cpu, ingestPercentOfCore: totalPercent(cpu), machineBusyPercent: busy, viewers, playlistsAdvancing: adv, partDelivery, pass: why.length === 0, why };
      steps.push(step);
      log(`concurrency: ${n} broadcasts: ingest ${step.ingestPercentOfCore} % of a core, machine ${busy} % busy, p50 ${viewers.map((v) => v.glassToGlassMs.p50).join('/')} ms → ${step.pass ? 'pass' : `FAIL (${why.join('; ')})`}`);
      if (!step.pass) break;
    }
  } finally {
    for (const s of sampled) {
      await s.viewing.page.close().catch(() => undefined);
      await s.viewing.publisher.stop();
    }
    await Promise.all(copies.map((c) => c.pub.stop()));
  }
  return steps;
}

function render(r: ReturnType<typeof buildResult>): string {
  const lines: string[] = [
    `# Ingest CPU per stream and concurrent broadcasts — ${r.date}`,
    '',
    r.forTheRecord ? '' : `**NOT FOR THE RECORD**: ${r.notForTheRecordBecause.join('; ')}.`,
    r.note ? `Note: ${r.note}` : '',
    '',
    `Machine: ${r.machine.cpu} × ${r.machine.cores}, ${r.machine.memoryGiB} GiB, kernel ${r.machine.kernel}, Node ${r.machine.node}, ${r.machine.ffmpeg}, ${r.machine.chromium}. Code ${r.code.commit}${r.code.uncommittedOutsideBench.length ? ` (+ uncommitted: ${r.code.uncommittedOutsideBench.join(', ')})` : ''}.`,
    `Source: ${source.width}x${source.height} ${source.fps} fps test pattern, x264 veryfast CBR ${source.videoKbps} kb/s, ${source.gopSeconds}-s GOP, AAC 160 kb/s 48 kHz stereo, pre-encoded once and published with \`ffmpeg -re -stream_loop -1 -c copy\`. CPU from /proc/<pid>/stat (utime + stime) of the ingest's node process and its descendants (children that ended within a window through the ingest's cutime + cstime); % of one core.`,
    '',
  ];
  if (r.passthrough) {
    const p = r.passthrough;
    lines.push(
      '## Passthrough',
      '',
      `Platform served: ${p.platformServes ? `${p.platformServes.kind}, ${p.platformServes.variants} variant(s), ${p.platformServes.container}, parts ${p.platformServes.parts ? 'yes' : 'no'}` : 'unknown'}.`,
      '',
      '| window | wall s | % of a core by process | total % |',
      '|---|---|---|---|',
      `| ingest idle | ${p.idle.wallSeconds} | ${Object.entries(p.idle.percentOfCore).map(([k, v]) => `${k} ${v}`).join(', ')} | ${totalPercent(p.idle)} |`,
      `| one broadcast | ${p.oneBroadcast.wallSeconds} | ${Object.entries(p.oneBroadcast.percentOfCore).map(([k, v]) => `${k} ${v}`).join(', ')} | ${totalPercent(p.oneBroadcast)} |`,
      '',
      `**Per passthrough stream: ${p.perStreamPercentOfCore} % of a core** (one broadcast − idle; target ≤ 2 %: ${p.perStreamPercentOfCore <= 2 ? 'met' : '**not met**'}).`,
      '',
    );
  }
  if (r.ladder) {
    lines.push(
      '## ABR renditions (each alone)',
      '',
      'One ffmpeg per row reading the source clip in real time and writing fragmented MP4 (200-ms fragments) to /dev/null with the packager\'s encoder arguments (libx264 veryfast zerolatency, constrained bitrate, `-sc_threshold 0`; restated from apps/ingest/src/live/ffmpeg-args.ts). Each row includes one decode of the source; "decode only" shows that share.',
      '',
      '| case | % of a core | ffmpeg speed |',
      '|---|---|---|',
      ...r.ladder.map((l) => `| ${l.name} | ${l.error ? `failed: ${l.error}` : l.percentOfCore} | ${l.speed === null ? '—' : `${l.speed}×`} |`),
      '',
    );
  }
  if (r.ladderViaPlatform) {
    lines.push(
      '## ABR renditions through the platform (`INGEST_RENDITIONS`)',
      '',
      'One broadcast of the source clip on a platform started with the ladder of the row; the ingest (node + every ffmpeg child). "over passthrough" subtracts the one-broadcast passthrough total of the first table.',
      '',
      '| case | INGEST_RENDITIONS | source GOP | % of a core by process | total | over passthrough |',
      '|---|---|---|---|---|---|',
      ...r.ladderViaPlatform.map((x) => x.skipped && !x.cpu
        ? `| ${x.name} | ${x.renditions} | ${x.sourceGopSeconds} s | skipped: ${x.skipped} | | |`
        : `| ${x.name} | ${x.renditions} | ${x.sourceGopSeconds} s | ${Object.entries(x.cpu?.percentOfCore ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}${x.skipped ? ` (${x.skipped})` : ''} | ${x.totalPercentOfCore ?? '—'} | ${x.overPassthroughPercentOfCore ?? '—'} |`),
      '',
    );
  }
  if (r.concurrency) {
    const last = [...r.concurrency].reverse().find((s) => s.pass);
    lines.push(
      '## Concurrent passthrough broadcasts',
      '',
      `N − k pre-encoded \`-c copy\` publishers plus k sampled live publishers with the wall clock burnt in (640x360 30 fps x264 ultrafast 1.5 Mb/s, same GOP; small so the publishers do not eat the CPU being measured), each sampled broadcast watched on the channel page in Chromium (low latency). A step passes when every sampled viewer has glass-to-glass p50 ≤ ${p50Target} ms, p95 ≤ ${p95Target} ms and ${maxStalls ? `at most ${maxStalls} stall events` : 'no stall'}, every broadcast's media playlist advances, and every broadcast delivers its parts on time: followed over the window with blocking reloads as an LL-HLS player does (bench/src/video/parts.ts), no gap between two new parts above ${maxPartGapMs} ms (a 0.7-s player buffer would run dry). Publishers and Chromium run on the same machine (see machine busy %): the browsers are the largest load, so \`--sampled\` bounds how many run.`,
      '',
      '| broadcasts | sampled | ingest % of a core (node + ffmpeg) | per broadcast | machine busy % | sampled glass-to-glass p50 / p95 (ms) | samples (misread) | stalls | playlists advancing | largest gap between parts, worst broadcast (p99 / max ms) | result |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...r.concurrency.map((s) => {
        const worst = (s.partDelivery ?? []).reduce<PartDelivery | null>((w, d) => (!w || d.maxGapMs > w.maxGapMs ? d : w), null);
        return `| ${s.broadcasts} | ${s.sampled} | ${s.ingestPercentOfCore} | ${round(s.ingestPercentOfCore / s.broadcasts, 2)} | ${s.machineBusyPercent} | ${s.viewers.map((v) => `${v.glassToGlassMs.p50} / ${v.glassToGlassMs.p95}`).join(', ')} | ${s.viewers.map((v) => `${v.samples} (${v.ocrMisreads})`).join(', ')} | ${s.viewers.map((v) => v.waitingEvents + v.bufferStalledErrors).join(', ')} | ${s.playlistsAdvancing}/${s.broadcasts} | ${worst ? `${worst.p99GapMs} / ${worst.maxGapMs}` : '—'} | ${s.pass ? 'pass' : `fail: ${s.why.join('; ')}`} |`;
      }),
      '',
      `**Sustained: ${last ? last.broadcasts : 0} concurrent passthrough broadcasts** with every sampled viewer within the target${r.concurrency.every((s) => s.pass) ? ` (the largest step tried, --max-broadcasts ${maxBroadcasts})` : ''}.`,
      '',
    );
  }
  return lines.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n');
}

function buildResult(started: string, quiet: QuietCheck, phaseQuiet: Record<string, QuietCheck>, p: PassthroughResult | null, l: LadderResult[] | null, c: StepResult[] | null, lp: PlatformLadderResult[] | null) {
  const notForTheRecord: string[] = [];
  if (!quiet.quiet) notForTheRecord.push(`the machine was ${quiet.busyPercent} % busy with other work before the run`);
  for (const [phase, q] of Object.entries(phaseQuiet)) if (!q.quiet) notForTheRecord.push(`${q.busyPercent} % busy before the ${phase} phase`);
  if (seconds < 60) notForTheRecord.push(`short windows (${seconds} s < 60 s)`);
  return {
    benchmark: 'ingest-cpu',
    date: started,
    note: values.note,
    forTheRecord: notForTheRecord.length === 0,
    notForTheRecordBecause: notForTheRecord,
    machine: machineInfo(),
    code: codeVersion(ROOT),
    quietBefore: quiet,
    quietBeforePhase: phaseQuiet,
    settings: { phases: [...phases], seconds, idleSeconds, warmupSeconds: warmup, stepSeconds, maxBroadcasts, sampled: sampledMax, source, sampledEncode, p50TargetMs: p50Target, p95TargetMs: p95Target, maxStalls },
    passthrough: p,
    ladder: l,
    ladderViaPlatform: lp,
    concurrency: c,
  };
}

async function main(): Promise<void> {
  for (const x of [seconds, idleSeconds, warmup, stepSeconds, maxBroadcasts, sampledMax, source.width, source.height, source.fps, source.videoKbps, source.gopSeconds]) {
    if (!Number.isFinite(x) || x < 0) throw new Error('numeric options must be non-negative numbers');
  }
  if (seconds < 5 || maxBroadcasts > 256 || sampledMax < 1) throw new Error('bounded: --seconds ≥ 5, --max-broadcasts ≤ 256, --sampled ≥ 1');
  refuseIfAnotherBenchmark();
  const started = new Date().toISOString();
  const clip = await sourceClip();
  const quiet = await quietGuard(Number(values['quiet-below']), Number(values['quiet-wait']), values['require-quiet'], log);
  log(`machine busy ${quiet.busyPercent} % before starting`);
  let p: PassthroughResult | null = null;
  let l: LadderResult[] | null = null;
  let c: StepResult[] | null = null;
  let lp: PlatformLadderResult[] | null = null;
  /** Before each later phase: wait (≤ 60 s) for the machine to be quiet again, and keep what was seen. */
  const phaseQuiet: Record<string, QuietCheck> = {};
  const settle = async (phase: string) => {
    phaseQuiet[phase] = await quietGuard(Number(values['quiet-below']), Math.min(60, Number(values['quiet-wait'])), false, log);
  };
  if (phases.has('ladder')) l = await ladder(clip);
  if (phases.has('passthrough') || phases.has('concurrency')) {
    await settle('passthrough+concurrency');
    const env = await startE2ePlatform({ logLevel: 'warn', env: PLATFORM_ENV });
    let browser: Browser | undefined;
    try {
      if (phases.has('passthrough')) p = await passthrough(env, clip);
      if (phases.has('concurrency')) {
        browser = await launchChromium();
        c = await concurrency(env, browser, clip);
      }
    } finally {
      await browser?.close().catch(() => undefined);
      await env.dispose().catch((e: unknown) => log(`dispose: ${String(e)}`));
    }
  }
  if (phases.has('ladder-platform')) await settle('ladder-platform');
  if (phases.has('ladder-platform')) lp = await ladderPlatform(p ? totalPercent(p.oneBroadcast) : null);
  const result = buildResult(started, quiet, phaseQuiet, p, l, c, lp);
  const dir = join(ROOT, 'bench', 'results');
  writeFileSync(join(dir, `${values.out}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const md = render(result);
  writeFileSync(join(dir, `${values.out}.md`), md);
  process.stdout.write(`${md}\n`);
}

await main();
