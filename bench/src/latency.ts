/**
 * LL-HLS latency benchmark (issue 10, "How it is shown"). In ONE run, for each GOP (1 s, 2 s) and each system:
 * - `floor`: the plain 1-s-segment HLS pipeline with no platform (./floor-hls.ts: node-media-server → ffmpeg HLS →
 *   node:http → hls.js defaults), watched on a minimal hls.js page;
 * - `low` / `smooth`: the platform (started as the e2e tests start it) with the channel's latency mode set through
 *   `PUT /me/channel/latency-mode` when the platform has it, else by overriding hls.js on the page (`low` →
 *   lowLatencyMode true, `smooth` → lowLatencyMode false + liveSyncDurationCount 3; the results say which), watched
 *   on the real channel page of the web app;
 * it opens the page, then publishes a 1280x720 30 fps test pattern with the wall clock burnt in (./video/clock.ts,
 * x264 veryfast + zerolatency, the GOP asked for, 48 kHz stereo AAC), measures publish → first presented frame
 * (`requestVideoFrameCallback`), then opens the page afresh (a viewer joining the running broadcast: a page opened
 * before the publish starts at the first segment of a short playlist and, without catch-up, stays closer to the edge
 * than a usual viewer), waits `--warmup` s, then grabs the presented frame every 0.5 s for `--seconds` and
 * reads the clock back with tesseract after the window (glass-to-glass), counting stalls (`waiting` events, hls.js
 * `bufferStalledError`). `--stall-minutes M` makes the platform-low 2-s-GOP window M minutes long (the "no stalls
 * over 5 minutes" run).
 * Writes bench/results/<out>.json and .md (default ll-hls-latency) with the machine, the settings and what the
 * platform served (multivariant or not, parts, container).
 * Usage: node bench/dist/latency.js [--seconds 60] [--stall-minutes 5] [--gops 1,2] [--systems floor,low,smooth]
 *        [--warmup 5] [--quiet-below 25] [--quiet-wait 180] [--require-quiet] [--note "…"] [--out ll-hls-latency]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LatencyMode } from '@eventcast/contracts';
import { launchChromium, startE2ePlatform, ROOT, type E2eEnv } from '@eventcast/e2e/harness';
import type { Browser } from 'playwright-core';
import { codeVersion } from './code-version.js';
import { sleep } from './fanout/proc.js';
import { startFloor, type Floor } from './floor-hls.js';
import { publishClock, type EncodeSettings } from './video/clock.js';
import { logger, machineInfo, quietGuard, refuseIfAnotherBenchmark, round, type QuietCheck } from './video/common.js';
import { analyzeWindow, rejoin, sampleWindow, startViewing, withBusy, type WindowResult } from './video/measure.js';
import { createChannel, describeHls, setLatencyMode, type PlaylistInfo } from './video/platform.js';
import type { ClientMode } from './video/viewer.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '5' },
    'stall-minutes': { type: 'string', default: '0' },
    gops: { type: 'string', default: '1,2' },
    systems: { type: 'string', default: 'floor,low,smooth' },
    width: { type: 'string', default: '1280' },
    height: { type: 'string', default: '720' },
    fps: { type: 'string', default: '30' },
    kbps: { type: 'string', default: '2500' },
    'quiet-below': { type: 'string', default: '25' },
    'quiet-wait': { type: 'string', default: '180' },
    'require-quiet': { type: 'boolean', default: false },
    note: { type: 'string', default: '' },
    out: { type: 'string', default: 'll-hls-latency' },
  },
});

type System = 'floor' | LatencyMode;
const log = logger('latency');
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const stallMinutes = Number(values['stall-minutes']);
const gops = values.gops.split(',').map(Number);
const systems = values.systems.split(',') as System[];
const encode = (gopSeconds: number): EncodeSettings => ({
  width: Number(values.width),
  height: Number(values.height),
  fps: Number(values.fps),
  gopSeconds,
  videoKbps: Number(values.kbps),
  preset: 'veryfast',
});

/** Targets of issue 10 (ms). */
const TARGETS = { lowP50At2sGopMs: 1000, lowP50OverFloor: 0.45, lowP95Ms: 1300, publishToFirstFrameMs: 1500, stallsOver5Min: 0 };

interface CaseResult {
  system: System;
  gopSeconds: number;
  /** How the latency mode was applied: `api` (the channel's setting), `client` (hls.js override on the page), `none` (floor). */
  modeSource: 'api' | 'client' | 'none';
  publishToFirstFrameMs: number | null;
  /** A viewer joining the running broadcast: ms from opening the page to its first frame. */
  joinToFirstFrameMs?: number | null;
  window: WindowResult | null;
  busyPercentDuring: number | null;
  quietBefore: QuietCheck;
  error?: string;
}

async function runCase(env: E2eEnv | null, floor: Floor, browser: Browser, system: System, gop: number, probe: { info: PlaylistInfo | null }): Promise<CaseResult> {
  const quietBefore = await quietGuard(Number(values['quiet-below']), Math.min(60, Number(values['quiet-wait'])), false, log);
  let pageUrl: string;
  let rtmpUrl: string;
  let modeSource: CaseResult['modeSource'] = 'none';
  let clientMode: ClientMode = 'none';
  let playlistUrl: string;
  if (system === 'floor') {
    const name = `floor_g${gop}_${Date.now().toString(36)}`;
    pageUrl = floor.pageUrl(name);
    rtmpUrl = floor.rtmpUrl(name);
    playlistUrl = floor.playlistUrl(name);
  } else {
    if (!env) throw new Error('no platform');
    try {
      // A fresh channel per case: no waiting for the previous broadcast's playlist to go away.
      const ch = await createChannel(env, `lat${system[0] ?? ''}${gop}`);
      modeSource = await setLatencyMode(env, ch, system);
      if (modeSource === 'client') clientMode = system;
      pageUrl = ch.pageUrl;
      rtmpUrl = ch.rtmpUrl;
      playlistUrl = ch.playlistUrl;
    } catch (e) {
      return { system, gopSeconds: gop, modeSource, publishToFirstFrameMs: null, window: null, busyPercentDuring: null, quietBefore, error: `channel setup: ${(e as Error).message}` };
    }
  }
  const windowSeconds = system === 'low' && gop === 2 && stallMinutes > 0 ? stallMinutes * 60 : seconds;
  log(`${system} gop ${gop} s: publishing, ${windowSeconds} s window (mode via ${modeSource})`);
  let viewing;
  try {
    viewing = await startViewing(browser, pageUrl, clientMode, () => publishClock(rtmpUrl, encode(gop)));
  } catch (e) {
    return { system, gopSeconds: gop, modeSource, publishToFirstFrameMs: null, window: null, busyPercentDuring: null, quietBefore, error: (e as Error).message };
  }
  try {
    if (system !== 'floor' && !probe.info) probe.info = await describeHls(playlistUrl).catch(() => null);
    // Glass-to-glass on a viewer joining the running broadcast (see rejoin).
    const joinMs = await rejoin(browser, viewing, pageUrl, clientMode);
    await sleep(warmup * 1000);
    const { value: raw, busyPercent } = await withBusy(() => sampleWindow(viewing.page, windowSeconds));
    await viewing.page.close();
    await viewing.publisher.stop();
    const window = await analyzeWindow(raw);
    log(`${system} gop ${gop} s: first frame ${viewing.publishToFirstFrameMs} ms, glass-to-glass p50 ${window.glassToGlassMs.p50} ms p95 ${window.glassToGlassMs.p95} ms, stalls ${window.waitingEvents}/${window.bufferStalledErrors}, busy ${busyPercent} %`);
    return { system, gopSeconds: gop, modeSource, publishToFirstFrameMs: viewing.publishToFirstFrameMs, joinToFirstFrameMs: joinMs, window, busyPercentDuring: busyPercent, quietBefore };
  } catch (e) {
    await viewing.page.close().catch(() => undefined);
    await viewing.publisher.stop();
    return { system, gopSeconds: gop, modeSource, publishToFirstFrameMs: viewing.publishToFirstFrameMs, window: null, busyPercentDuring: null, quietBefore, error: (e as Error).message };
  }
}

/** The hls.js version the web app and the floor page bundle (node_modules). */
function hlsJsVersion(): string {
  try {
    return (JSON.parse(readFileSync(createRequire(import.meta.url).resolve('hls.js/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function render(r: ReturnType<typeof buildResult>): string {
  const ms = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '—' : String(Math.round(x)));
  const lines = [
    `# LL-HLS glass-to-glass latency — ${r.date}`,
    '',
    r.forTheRecord ? '' : `**NOT FOR THE RECORD**: ${r.notForTheRecordBecause.join('; ')}.`,
    r.note ? `Note: ${r.note}` : '',
    '',
    `Machine: ${r.machine.cpu} × ${r.machine.cores}, ${r.machine.memoryGiB} GiB, kernel ${r.machine.kernel}, Node ${r.machine.node}, ${r.machine.ffmpeg}, ${r.machine.chromium}, ${r.machine.tesseract}. Code ${r.code.commit}${r.code.uncommittedOutsideBench.length ? ` (+ uncommitted: ${r.code.uncommittedOutsideBench.join(', ')})` : ''}.`,
    `Publisher: ${r.settings.width}x${r.settings.height} ${r.settings.fps} fps test pattern, x264 veryfast zerolatency CBR ${r.settings.videoKbps} kb/s, AAC 48 kHz stereo, wall clock burnt in. Window ${r.settings.seconds} s after a ${r.settings.warmupSeconds} s warm-up, a grab every 0.5 s${r.settings.stallMinutes ? `; platform-low at 2-s GOP: ${r.settings.stallMinutes} min` : ''}.`,
    `Platform served: ${r.platformServes ? `${r.platformServes.kind} playlist, ${r.platformServes.variants} variant(s)${r.platformServes.resolutions.length ? ` (${r.platformServes.resolutions.join(', ')})` : ''}, ${r.platformServes.container}, parts ${r.platformServes.parts ? `yes (PART-TARGET ${r.platformServes.partTargetSeconds} s)` : 'no'}, blocking reload ${r.platformServes.canBlockReload ? 'yes' : 'no'}, target duration ${r.platformServes.targetDurationSeconds} s` : 'unknown'}.`,
    `Floor: node-media-server 4 (defaults) → ffmpeg -c copy -f hls -hls_time 1 (MPEG-TS, 6 segments) → node:http → hls.js ${r.hlsJs} defaults (\`new Hls()\`).`,
    '',
    '| system | GOP | mode via | hls.js lowLatencyMode / targetLatency (s) / levels | publish → first frame (ms) | join → first frame (ms) | glass-to-glass p50 | p95 | min | max | vs floor p50 | hls.latency p50 (s) | samples (misread) | stalls: waiting / bufferStalled / frozen grabs | busy % |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.cases.map((c) => {
      const w = c.window;
      if (!w) return `| ${c.system} | ${c.gopSeconds} s | ${c.modeSource} | — | ${ms(c.publishToFirstFrameMs)} | ${ms(c.joinToFirstFrameMs)} | failed: ${c.error ?? ''} |||||||||`;
      const floor = r.cases.find((f) => f.system === 'floor' && f.gopSeconds === c.gopSeconds)?.window?.glassToGlassMs.p50;
      const ratio = c.system !== 'floor' && floor ? `${round(w.glassToGlassMs.p50 / floor, 2)}×` : '';
      return `| ${c.system} | ${c.gopSeconds} s | ${c.modeSource} | ${String(w.lowLatencyMode)} / ${w.targetLatency ?? '—'} / ${w.levels} | ${ms(c.publishToFirstFrameMs)} | ${ms(c.joinToFirstFrameMs)} | ${ms(w.glassToGlassMs.p50)} | ${ms(w.glassToGlassMs.p95)} | ${ms(w.glassToGlassMs.min)} | ${ms(w.glassToGlassMs.max)} | ${ratio} | ${w.hlsLatencySeconds.p50} | ${w.samples} (${w.ocrMisreads}) | ${w.waitingEvents} / ${w.bufferStalledErrors} / ${w.frozenGrabs} | ${c.busyPercentDuring ?? '—'} |`;
    }),
    '',
    '## Targets (issue 10)',
    '',
    ...r.targets.map((t) => `- ${t.met === null ? '—' : t.met ? 'met' : '**not met**'}: ${t.what} (measured ${t.measured})`),
    '',
    'Glass-to-glass = the wall clock when the frame was presented (`requestVideoFrameCallback` `expectedDisplayTime`) minus the clock burnt into it by the publisher (same machine), read with tesseract after the window. Misreads (no 8 digits, or a delay outside 0–20 s) are discarded and counted. `hls.latency` is hls.js\'s own playlist-based estimate (it leaves out the encoder, packager and buffering before the playlist shows a part).',
    '',
  ];
  return lines.filter((l, i, a) => !(l === '' && a[i - 1] === '')).join('\n');
}

function buildResult(cases: CaseResult[], quiet: QuietCheck, platformServes: PlaylistInfo | null, started: string) {
  const find = (s: System, g: number) => cases.find((c) => c.system === s && c.gopSeconds === g)?.window ?? null;
  const low2 = find('low', 2);
  const floor2 = find('floor', 2);
  const lowFirst = cases.filter((c) => c.system === 'low').map((c) => c.publishToFirstFrameMs ?? NaN);
  const notForTheRecord: string[] = [];
  if (!quiet.quiet || cases.some((c) => !c.quietBefore.quiet)) notForTheRecord.push('the machine was busy with other work before at least one case');
  if (seconds < 60) notForTheRecord.push(`short windows (${seconds} s < 60 s)`);
  if (cases.some((c) => c.modeSource === 'client')) notForTheRecord.push('the latency mode was applied on the client (the platform has no per-channel setting in this build)');
  const stallWindow = stallMinutes > 0 ? low2 : null;
  return {
    benchmark: 'll-hls-latency',
    date: started,
    note: values.note,
    forTheRecord: notForTheRecord.length === 0,
    notForTheRecordBecause: notForTheRecord,
    machine: machineInfo(),
    code: codeVersion(ROOT),
    hlsJs: hlsJsVersion(),
    quietBefore: quiet,
    settings: { ...encode(0), gopSeconds: gops, seconds, warmupSeconds: warmup, stallMinutes, systems, grabEveryMs: 500 },
    platformServes,
    cases,
    targets: [
      { what: `low latency, 2-s GOP: glass-to-glass p50 ≤ ${TARGETS.lowP50At2sGopMs} ms`, measured: low2 ? `${low2.glassToGlassMs.p50} ms` : '—', met: low2 ? low2.glassToGlassMs.p50 <= TARGETS.lowP50At2sGopMs : null },
      { what: `low latency, 2-s GOP: p50 ≤ ${TARGETS.lowP50OverFloor}× the plain-HLS floor's p50 at 2-s GOP`, measured: low2 && floor2 ? `${round(low2.glassToGlassMs.p50 / floor2.glassToGlassMs.p50, 2)}×` : '—', met: low2 && floor2 ? low2.glassToGlassMs.p50 <= TARGETS.lowP50OverFloor * floor2.glassToGlassMs.p50 : null },
      { what: `low latency, 2-s GOP: glass-to-glass p95 ≤ ${TARGETS.lowP95Ms} ms`, measured: low2 ? `${low2.glassToGlassMs.p95} ms` : '—', met: low2 ? low2.glassToGlassMs.p95 <= TARGETS.lowP95Ms : null },
      { what: `no stalls over ${stallMinutes || 5} minutes (low, 2-s GOP; waiting events + bufferStalledError)`, measured: stallWindow ? `${stallWindow.waitingEvents + stallWindow.bufferStalledErrors} over ${stallWindow.seconds} s` : 'not run (--stall-minutes 5)', met: stallWindow ? stallWindow.waitingEvents + stallWindow.bufferStalledErrors === 0 && stallWindow.seconds >= 300 : null },
      { what: `publish → first frame ≤ ${TARGETS.publishToFirstFrameMs} ms (low, every GOP)`, measured: lowFirst.length ? `${lowFirst.join(', ')} ms` : '—', met: lowFirst.length ? lowFirst.every((x) => x <= TARGETS.publishToFirstFrameMs) : null },
    ],
  };
}

async function main(): Promise<void> {
  for (const x of [seconds, warmup, stallMinutes, ...gops]) if (!Number.isFinite(x) || x < 0) throw new Error('numeric options must be non-negative numbers');
  if (seconds < 5 || seconds > 1800 || stallMinutes > 60) throw new Error('bounded: 5 ≤ --seconds ≤ 1800, --stall-minutes ≤ 60');
  for (const s of systems) if (!['floor', 'low', 'smooth'].includes(s)) throw new Error(`unknown system ${s} (floor, low, smooth)`);
  refuseIfAnotherBenchmark();
  const started = new Date().toISOString();
  const quiet = await quietGuard(Number(values['quiet-below']), Number(values['quiet-wait']), values['require-quiet'], log);
  log(`machine busy ${quiet.busyPercent} % before starting`);
  // Many accounts from 127.0.0.1 (one fresh channel per case).
  const env = systems.some((s) => s !== 'floor') ? await startE2ePlatform({ logLevel: 'warn', env: { RATE_LIMITS: 'auth=100000/1m, api=100000000/1m' } }) : null;
  let floor: Floor | undefined;
  let browser: Browser | undefined;
  const cases: CaseResult[] = [];
  const probe: { info: PlaylistInfo | null } = { info: null };
  try {
    floor = await startFloor();
    browser = await launchChromium();
    for (const gop of gops) for (const system of systems) cases.push(await runCase(env, floor, browser, system, gop, probe));
  } finally {
    await browser?.close().catch(() => undefined);
    await floor?.dispose().catch(() => undefined);
    await env?.dispose().catch((e: unknown) => log(`dispose: ${String(e)}`));
  }
  const result = buildResult(cases, quiet, probe.info, started);
  const dir = join(ROOT, 'bench', 'results');
  writeFileSync(join(dir, `${values.out}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const md = render(result);
  writeFileSync(join(dir, `${values.out}.md`), md);
  process.stdout.write(`${md}\n`);
}

await main();
