/**
 * One measured viewing: publish → first frame on an already-open page, then glass-to-glass samples every ~0.5 s and
 * stall counts over a window, OCR afterwards. Used by ll-hls latency (one viewer per case) and ingest CPU (one or
 * two sampled viewers per concurrency step).
 */
import type { Browser, Page } from 'playwright-core';
import { machineCpu, sleep } from '../fanout/proc.js';
import { clockDelay, ocrClocks } from './clock.js';
import { busyBetween, round, stats, until, type Child, type Stats } from './common.js';
import { counters, grabFrame, openViewer, type ClientMode, type Grab, type PageCounters } from './viewer.js';

/** A page opened before the publish, and the publisher once started. */
export interface Viewing {
  page: Page;
  publisher: Child;
  /** ms from spawning the publisher to the first presented frame on the page. */
  publishToFirstFrameMs: number;
}

/**
 * Opens `pageUrl` (instrumented, `clientMode`), lets it settle `settleMs`, starts `publish()` and waits for the first
 * frame (≤ `timeoutMs`). On failure the page is closed and the publisher stopped.
 * @throws {Error} when no frame appears in time (with the publisher's stderr).
 */
export async function startViewing(browser: Browser, pageUrl: string, clientMode: ClientMode, publish: () => Child, settleMs = 2000, timeoutMs = 30_000): Promise<Viewing> {
  const page = await openViewer(browser, pageUrl, clientMode);
  await sleep(settleMs);
  const publisher = publish();
  try {
    const first = await until('the first video frame on the page', async () => (await counters(page)).firstFrameAt, timeoutMs, 50);
    return { page, publisher, publishToFirstFrameMs: round(first - publisher.startedAt, 0) };
  } catch (e) {
    await page.close().catch(() => undefined);
    await publisher.stop();
    throw new Error(`${(e as Error).message}; publisher: ${publisher.stderr().slice(-500) || '(no output)'}`, { cause: e });
  }
}

/**
 * Replaces the viewing's page by a fresh one opened on the running broadcast and waits for its first frame (≤ 30 s).
 * Glass-to-glass is measured on this page: a viewer that opened the page before the publish starts playing at the
 * first segment of a playlist that is still short, behind less than the player's target, and a player without
 * catch-up (smooth, or hls.js defaults) stays there; a viewer joining a running broadcast is the usual case.
 * @returns ms from opening the page to its first frame (join time).
 * @throws {Error} when no frame appears in time.
 */
export async function rejoin(browser: Browser, viewing: Viewing, pageUrl: string, clientMode: ClientMode): Promise<number> {
  await viewing.page.close();
  const opened = Date.now();
  viewing.page = await openViewer(browser, pageUrl, clientMode);
  const page = viewing.page;
  const first = await until('the first video frame after joining', async () => (await counters(page)).firstFrameAt, 30_000, 50);
  return round(first - opened, 0);
}

/** Raw samples of one window: grabs and the page counters at its start and end. */
export interface RawWindow {
  grabs: Grab[];
  before: PageCounters;
  after: PageCounters;
  seconds: number;
}

/** Grabs a frame every `everyMs` for `seconds` (see {@link grabFrame}). */
export async function sampleWindow(page: Page, seconds: number, everyMs = 500): Promise<RawWindow> {
  const before = await counters(page);
  const grabs: Grab[] = [];
  const start = Date.now();
  const end = start + seconds * 1000;
  for (let next = start; next < end; next += everyMs) {
    const wait = next - Date.now();
    if (wait > 0) await sleep(wait);
    const g = await grabFrame(page);
    if (g) grabs.push(g);
  }
  return { grabs, before, after: await counters(page), seconds };
}

/** What one window showed. Times in ms unless named in seconds. */
export interface WindowResult {
  seconds: number;
  glassToGlassMs: Stats;
  /** hls.js's own `hls.latency` (s) at each grab: playlist-based, does not include encoder and packager delays. */
  hlsLatencySeconds: Stats;
  samples: number;
  ocrMisreads: number;
  /** Grabs where no new frame was presented within 1 s (playback frozen). */
  frozenGrabs: number;
  /** `waiting` events and hls.js `bufferStalledError`s during the window. */
  waitingEvents: number;
  bufferStalledErrors: number;
  fatalErrors: string[];
  droppedFrames: number;
  /** hls.js config as the page ran it, and the level it played. */
  lowLatencyMode: boolean | null;
  liveSyncDurationCount: number | null;
  /** hls.js `targetLatency` (s) at the end of the window. */
  targetLatency: number | null;
  levels: number;
  levelHeight: number;
}

/** OCRs a window's grabs (one tesseract process) and summarises it. */
export async function analyzeWindow(w: RawWindow): Promise<WindowResult> {
  const clocks = await ocrClocks(w.grabs.map((g) => g.png));
  const g2g: number[] = [];
  let misreads = 0;
  w.grabs.forEach((g, i) => {
    const shown = clocks[i];
    const d = shown === null || shown === undefined ? null : clockDelay(g.at, shown);
    if (d === null) misreads++;
    else g2g.push(d);
  });
  return {
    seconds: w.seconds,
    glassToGlassMs: stats(g2g),
    hlsLatencySeconds: stats(w.grabs.flatMap((g) => (g.hlsLatency === null ? [] : [g.hlsLatency]))),
    samples: w.grabs.length,
    ocrMisreads: misreads,
    frozenGrabs: w.grabs.filter((g) => g.frozen).length,
    waitingEvents: w.after.waiting - w.before.waiting,
    bufferStalledErrors: w.after.stalledErrors - w.before.stalledErrors,
    fatalErrors: w.after.fatalErrors.slice(w.before.fatalErrors.length),
    droppedFrames: w.after.droppedFrames - w.before.droppedFrames,
    lowLatencyMode: w.after.lowLatencyMode,
    liveSyncDurationCount: w.after.liveSyncDurationCount,
    targetLatency: w.after.targetLatency === null ? null : round(w.after.targetLatency, 3),
    levels: w.after.levels,
    levelHeight: w.after.levelHeight,
  };
}

/** Runs `fn` and returns its value with the machine's busy share (%) meanwhile. */
export async function withBusy<T>(fn: () => Promise<T>): Promise<{ value: T; busyPercent: number }> {
  const a = machineCpu();
  const value = await fn();
  return { value, busyPercent: busyBetween(a, machineCpu()) };
}
