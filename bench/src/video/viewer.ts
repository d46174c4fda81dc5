/**
 * A measured viewer: a Chromium page (the platform's channel page or the floor's hls.js page) instrumented before
 * any of its scripts run (`page.addInitScript`):
 * - the first `<video>` on the page gets a `requestVideoFrameCallback` (HTML video rVFC spec): the first decoded
 *   frame's `presentationTime` is "first frame" (publish → first frame);
 * - `waiting` events of that video after the first frame, and hls.js `hlsError` events with details
 *   `bufferStalledError` (hls.js src/errors.ts), are counted as stalls;
 * - `window.__hls` (both pages expose their hls.js instance there) is trapped with a setter, so the client-side
 *   latency mode override (used until the platform has a per-channel setting) applies before `loadSource`:
 *   `smooth` → `config.lowLatencyMode = false`, `liveSyncDurationCount = 3`; `low` → `lowLatencyMode = true`.
 *   hls.js reads both lazily from `hls.config` (src/controller/latency-controller.ts, stream-controller.ts).
 * Samples grab the frame being presented (drawn to a canvas inside a rVFC callback, stamped with its
 * `expectedDisplayTime`) as a PNG crop of the burnt-in clock; OCR runs after the measurement so it costs no CPU
 * while measuring.
 */
import type { Browser, Page } from 'playwright-core';
import { CLOCK_CROP } from './clock.js';

/** Client-side latency mode override: none (the page's own config), or hls.js low-latency on/off. */
export type ClientMode = 'none' | 'low' | 'smooth';

/** What the instrumentation collected on a page. */
export interface PageCounters {
  /** Epoch ms of the first presented frame; null before. */
  firstFrameAt: number | null;
  /** `waiting` events since the first frame. */
  waiting: number;
  /** hls.js `bufferStalledError` errors. */
  stalledErrors: number;
  /** hls.js fatal error details, in order. */
  fatalErrors: string[];
  /** hls.js instances created by the page. */
  hlsInstances: number;
  /** hls.js `lowLatencyMode` and `liveSyncDurationCount` of the latest instance as it plays, null before one exists. */
  lowLatencyMode: boolean | null;
  liveSyncDurationCount: number | null;
  /** hls.js `targetLatency` (s): the distance behind the live edge it aims at (PART-HOLD-BACK in low-latency mode). */
  targetLatency: number | null;
  /** hls.js levels (variants) of the latest instance. */
  levels: number;
  /** Current level's height in pixels, -1 before one is chosen. */
  levelHeight: number;
  /** `HTMLVideoElement.getVideoPlaybackQuality()` dropped and total frames. */
  droppedFrames: number;
  totalFrames: number;
}

/** One grabbed frame: when it was presented (epoch ms), the clock crop as PNG, and hls.js's own latency estimate (s). */
export interface Grab {
  at: number;
  png: Buffer;
  hlsLatency: number | null;
  /** True when rVFC did not fire within 1 s (video stalled or paused): the frozen frame was drawn at `Date.now()`. */
  frozen: boolean;
}

declare global {
  interface Window {
    __bench?: {
      firstFrameAt: number | null;
      waiting: number;
      stalledErrors: number;
      fatalErrors: string[];
      hlsInstances: number;
      video: HTMLVideoElement | null;
    };
  }
}

/** The instrumentation (runs in the page, before its scripts). Serialised by playwright: no closures. */
function instrument(clientMode: ClientMode): void {
  const st = { firstFrameAt: null as number | null, waiting: 0, stalledErrors: 0, fatalErrors: [] as string[], hlsInstances: 0, video: null as HTMLVideoElement | null };
  window.__bench = st;
  interface HlsLike {
    config: { lowLatencyMode: boolean; liveSyncDurationCount: number };
    on(event: string, cb: (event: string, data: { details: string; fatal: boolean }) => void): void;
  }
  let current: HlsLike | null = null;
  Object.defineProperty(window, '__hls', {
    configurable: true,
    get: () => current,
    set: (h: HlsLike | null) => {
      current = h;
      if (!h) return;
      st.hlsInstances++;
      if (clientMode === 'smooth') {
        h.config.lowLatencyMode = false;
        h.config.liveSyncDurationCount = 3;
      } else if (clientMode === 'low') {
        h.config.lowLatencyMode = true;
      }
      h.on('hlsError', (_e, d) => {
        if (d.details === 'bufferStalledError') st.stalledErrors++;
        if (d.fatal) st.fatalErrors.push(d.details);
      });
    },
  });
  const watch = () => {
    const v = document.querySelector('video');
    if (v && v !== st.video) {
      st.video = v;
      v.addEventListener('waiting', () => {
        if (st.firstFrameAt !== null) st.waiting++;
      });
      const first = (_now: number, meta: VideoFrameCallbackMetadata) => {
        if (st.firstFrameAt === null) st.firstFrameAt = performance.timeOrigin + meta.presentationTime;
      };
      v.requestVideoFrameCallback(first);
    }
  };
  setInterval(watch, 20);
}

/** Opens `url` in a new page of `browser`, instrumented (see the module comment). */
export async function openViewer(browser: Browser, url: string, clientMode: ClientMode): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.addInitScript(instrument, clientMode);
  await page.goto(url);
  return page;
}

/** The page's counters now. */
export async function counters(page: Page): Promise<PageCounters> {
  return page.evaluate(() => {
    const b = window.__bench;
    const h = (window as unknown as { __hls?: { config: { lowLatencyMode: boolean; liveSyncDurationCount: number }; levels?: { height: number }[]; currentLevel: number; targetLatency: number | null } | null }).__hls;
    const q = b?.video?.getVideoPlaybackQuality();
    const level = h && h.currentLevel >= 0 ? h.levels?.[h.currentLevel] : undefined;
    return {
      firstFrameAt: b?.firstFrameAt ?? null,
      waiting: b?.waiting ?? 0,
      stalledErrors: b?.stalledErrors ?? 0,
      fatalErrors: b?.fatalErrors ?? [],
      hlsInstances: b?.hlsInstances ?? 0,
      lowLatencyMode: h ? h.config.lowLatencyMode : null,
      liveSyncDurationCount: h ? h.config.liveSyncDurationCount : null,
      targetLatency: h?.targetLatency ?? null,
      levels: h?.levels?.length ?? 0,
      levelHeight: level?.height ?? -1,
      droppedFrames: q?.droppedVideoFrames ?? 0,
      totalFrames: q?.totalVideoFrames ?? 0,
    };
  });
}

/** Grabs the frame being presented (see {@link Grab}); the crop is {@link CLOCK_CROP}, grey, scaled to 160 px high. */
export async function grabFrame(page: Page): Promise<Grab | null> {
  const g = await page.evaluate(
    (crop) =>
      new Promise<{ at: number; png: string; hlsLatency: number | null; frozen: boolean } | null>((resolve) => {
        const v = window.__bench?.video;
        if (!v || v.videoWidth === 0) {
          resolve(null);
          return;
        }
        let done = false;
        const draw = (at: number, frozen: boolean) => {
          done = true;
          const w = Math.round(v.videoWidth * crop.width);
          const h = Math.round(v.videoHeight * crop.height);
          const scale = 160 / h;
          const c = document.createElement('canvas');
          c.width = Math.round(w * scale);
          c.height = 160;
          const ctx = c.getContext('2d');
          if (!ctx) {
            resolve(null);
            return;
          }
          ctx.filter = 'grayscale(1)';
          ctx.drawImage(v, 0, 0, w, h, 0, 0, c.width, c.height);
          const l = (window as unknown as { __hls?: { latency: number } | null }).__hls?.latency;
          resolve({ at, png: c.toDataURL('image/png'), hlsLatency: typeof l === 'number' && l > 0 ? l : null, frozen });
        };
        v.requestVideoFrameCallback((_now, meta) => {
          if (!done) draw(performance.timeOrigin + meta.expectedDisplayTime, false);
        });
        setTimeout(() => {
          if (!done) draw(Date.now(), true);
        }, 1000);
      }),
    CLOCK_CROP,
  );
  if (!g) return null;
  return { at: g.at, png: Buffer.from(g.png.split(',')[1] ?? '', 'base64'), hlsLatency: g.hlsLatency, frozen: g.frozen };
}
