/**
 * Stream-health sampler (issue 10 item 5): every `INGEST_HEALTH_SAMPLE_MS` (default 10 s) it reads the health of each
 * live channel of this node (`ChannelManager.health()`: the RTMP packet meter of ./stream-health.ts, the announced
 * media of onMetaData/ffprobe, the packager) and sends one `ingest.health-sample` per broadcast with a connected
 * publisher to the command side, which records it as `BroadcastHealthSampled` (docs/contracts.md "Stream health").
 *
 * The warnings are computed by `streamHealthWarnings` of @eventcast/contracts (the command side recomputes them with
 * the same function). Codec names are mapped to the contract's fixed sets. The packager's `mode` is read defensively:
 * packagers that do not report one give null. A failed or refused request is logged and dropped (a sample is
 * expendable; the next one follows an interval later).
 */
import {
  healthAudioCodec,
  healthVideoCodec,
  streamHealthWarnings,
  type HealthCommandReply,
  type HealthPackager,
  type HealthSampleRequest,
} from '@eventcast/contracts';
import type { Logger } from '@eventcast/platform';
import type { ChannelHealth } from './channels.js';
import { errorMessage } from './util.js';

/** What the sampler needs. */
export interface HealthSamplerOptions {
  /** The live channels' health now (`ChannelManager.health`). */
  channels: () => ChannelHealth[];
  /** Sends one sample (`CommandClient.healthSample`). */
  send: (sample: HealthSampleRequest) => Promise<HealthCommandReply>;
  /** Sampling period, ms. */
  intervalMs: number;
  log: Logger;
  /** Wall clock, ms (tests pass their own). */
  now?: () => number;
}

const nonNeg = (n: number | null | undefined, max: number): number | null =>
  typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.min(n, max) : null;
const dim = (n: number | null | undefined): number | null => (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 16384 ? n : null);

const count = (n: unknown): number | null => (typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : null);

/**
 * The packager part of a sample, cumulative over the broadcast: `drops` = frames ffmpeg dropped over all its runs +
 * malformed fragments, `restarts` = every restart since the publish (the packager's `droppedFramesTotal`,
 * `malformed`, `restartsTotal`; a packager without them falls back to the current run's figures). `mode` only when
 * the packager reports `passthrough` or `reencode`.
 */
export function packagerHealth(p: ChannelHealth['packager']): HealthPackager {
  const q = p as { mode?: unknown; droppedFramesTotal?: unknown; restartsTotal?: unknown; malformed?: unknown };
  const mode = q.mode;
  const frames = count(q.droppedFramesTotal) ?? count(p.progress?.dropFrames) ?? 0;
  return {
    running: p.running,
    drops: Math.min(1e12, frames + (count(q.malformed) ?? 0)),
    restarts: Math.min(1e6, count(q.restartsTotal) ?? count(p.restarts) ?? 0),
    mode: mode === 'passthrough' || mode === 'reencode' ? mode : null,
  };
}

/**
 * The sample of one channel, or null when it has no broadcast yet, its publisher is away (grace period) or its input
 * could not be measured.
 * @param intervalMs the sampling period (ms), stored as whole seconds.
 */
export function healthSampleOf(h: ChannelHealth, intervalMs: number, now: number): HealthSampleRequest | null {
  if (!h.broadcastId || !h.connected || !h.input) return null;
  const i = h.input;
  const m = h.media;
  const measures = {
    videoBitrateKbps: nonNeg(i.videoBitrateKbps, 1e6),
    audioBitrateKbps: nonNeg(i.audioBitrateKbps, 1e6),
    fps: nonNeg(i.fps, 1000),
    maxKeyframeIntervalSeconds: nonNeg(i.maxKeyframeIntervalSeconds, 3600),
    announcedVideoBitrateKbps: nonNeg(m?.videoBitrateKbps, 1e6),
    announcedFrameRate: nonNeg(m?.frameRate, 1000),
    audioCodec: healthAudioCodec(m?.audioCodec),
    windowSeconds: nonNeg(i.windowSeconds, 3600) ?? 0,
  };
  return {
    channelId: h.channelId,
    broadcastId: h.broadcastId,
    sampledAt: new Date(now).toISOString(),
    intervalSeconds: Math.min(3600, Math.max(1, Math.round(intervalMs / 1000))),
    ...measures,
    bitrateKbps: nonNeg(i.bitrateKbps, 1e6),
    keyframeIntervalSeconds: nonNeg(i.keyframeIntervalSeconds, 3600),
    width: dim(m?.width),
    height: dim(m?.height),
    videoCodec: healthVideoCodec(m?.videoCodec),
    packager: packagerHealth(h.packager),
    warnings: streamHealthWarnings(measures),
  };
}

/** Samples every live channel of the node periodically; see the module comment. */
export class HealthSampler {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(private readonly o: HealthSamplerOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Starts the periodic sampling (idempotent). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.inFlight) this.inFlight = this.tick().finally(() => (this.inFlight = null));
    }, this.o.intervalMs);
    this.timer.unref();
  }

  /** Stops sampling and waits for the requests in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  /** Takes and sends one sample of every live channel. Never rejects. */
  async tick(): Promise<void> {
    const now = this.now();
    const samples = this.o.channels().flatMap((h) => healthSampleOf(h, this.o.intervalMs, now) ?? []);
    await Promise.all(
      samples.map(async (s) => {
        try {
          const r = await this.o.send(s);
          if (!r.ok) this.o.log.debug({ broadcastId: s.broadcastId, code: r.code }, 'health sample not recorded');
        } catch (err: unknown) {
          this.o.log.warn({ broadcastId: s.broadcastId, err: errorMessage(err) }, 'health sample could not be sent');
        }
      }),
    );
  }
}
