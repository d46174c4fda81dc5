/**
 * Lifecycle of live channels on this ingest node: packaging (ffmpeg → fragmented MP4 parts → the live media store,
 * ./live/packager.ts) and the broadcast start/end commands.
 *
 * One {@link LiveChannel} per channel id. All operations of a channel run one after another on a per-channel promise
 * chain, so a reconnect, an unpublish and a new publish never interleave. Starting is idempotent: a publisher that
 * resumes within node-media-server's publish grace period keeps the same ffmpeg and the same broadcast.
 */
import { randomUUID } from 'node:crypto';
import type { IngestChannelHealth } from '@eventcast/contracts';
import type { BroadcastEndReason, MediaInfo } from '@eventcast/events';
import type { Logger } from '@eventcast/platform';
import type { CommandClient } from './command-client.js';
import type { IngestConfig } from './config.js';
import type { LiveChannelSample, LiveChannelSource } from './metrics.js';
import { LivePackager, ReencodeBudget, type SourceInfo } from './live/packager.js';
import type { ChannelMediaSink, LiveMediaSink } from './live/media-sink.js';
import { hasSessionMetadata, mediaInfoFromSession, probeMedia } from './media-info.js';
import type { NmsSession } from './nms.js';
import { StreamHealthMeter, tapPackets, type TappableSession } from './stream-health.js';
import { errorMessage, retry, sleep } from './util.js';

/** State of one live channel. `sessionId` is the NMS session currently publishing it. */
export interface LiveChannel {
  channelId: string;
  username: string;
  keyHash: string;
  sessionId: string;
  session: NmsSession;
  /** The current session's stream key (plaintext, for the internal URL only: never logged). */
  streamKey: string;
  connected: boolean;
  broadcastId: string | null;
  ending: boolean;
  /** The live media store's side of this channel (opened again on a reconnect within the grace period). */
  sink: ChannelMediaSink;
  packager: LivePackager;
  fallbackTimer: NodeJS.Timeout | null;
  log: Logger;
  /** Whether the channel keeps this broadcast as a VOD (the broadcast-start reply); unset until it answered. */
  record?: boolean;
  /** Media info sent with the broadcast start (metrics: announced bitrate); null until then. */
  media?: MediaInfo | null;
  /** Measures the current publisher session's packets (`GET /admin/health`); replaced on a reconnect. */
  health?: StreamHealthMeter;
  /** When the current publisher session was accepted (ms). */
  since?: number;
}

/**
 * One live channel in `GET /admin/health` (docs/contracts.md "Admin pages"): the contract's `IngestChannelHealth`
 * (`ingestChannelHealthSchema` of @eventcast/contracts, ingest-health.ts) — the publisher's measured input
 * (./stream-health.ts) and the packager's status (./live/packager.ts `LivePackager.status`).
 */
export type ChannelHealth = IngestChannelHealth;

const EMPTY_MEDIA: MediaInfo = {
  videoCodec: null, audioCodec: null, width: null, height: null, frameRate: null,
  videoBitrateKbps: null, audioSampleRate: null, audioChannels: null,
};

/**
 * Told when a broadcast of this node started (recorded by the command side) and when its channel ends (e.g. the
 * restreamer, ./restream.ts). `inputUrl` is the internal RTMP URL of the live stream and contains the stream key
 * (`secret`): never log it.
 */
export interface BroadcastObserver {
  /**
   * The command side recorded the broadcast start. `record`: whether the channel keeps the broadcast as a VOD
   * (`broadcastStartReplySchema` of contracts vod.ts; issue 11).
   */
  started(b: { channelId: string; broadcastId: string; username: string; record: boolean; inputUrl: string; secret: string; log: Logger }): void;
  /** The publisher reconnected within the grace period; `inputUrl` is the new session's (another key: another URL). */
  resumed?(b: { channelId: string; broadcastId: string; inputUrl: string; secret: string }): void;
  ended(b: { channelId: string; broadcastId: string; username: string }): void;
  /**
   * The channel's end is complete on this node: the packager finished and the live media store closed the channel's
   * last segments (the recorder finalizes the recording here, ./live/recorder.ts). `broadcastId` null: the broadcast
   * never started; `record`: the broadcast-start reply's (null without one) — also when the channel ended while the
   * command side answered, so `started` was never called. Awaited on the channel's operation chain (and so by {@link ChannelManager.shutdown}).
   */
  finished?(b: { channelId: string; broadcastId: string | null; username: string; record: boolean | null }): Promise<void>;
}

/** Owns every {@link LiveChannel} of the node. */
export class ChannelManager implements LiveChannelSource {
  private readonly observers: BroadcastObserver[] = [];
  private readonly live = new Map<string, LiveChannel>();
  private readonly chains = new Map<string, Promise<void>>();
  /** The node's keyframe-fix re-encode slots (`INGEST_MAX_REENCODES`), shared by every channel's packager. */
  private readonly reencodes: ReencodeBudget;

  /** @param media the live media store the packagers feed (./live/media-sink.ts). */
  constructor(
    private readonly cfg: IngestConfig,
    private readonly commands: CommandClient,
    private readonly log: Logger,
    private readonly media: LiveMediaSink,
  ) {
    this.reencodes = new ReencodeBudget(cfg.maxReencodes);
  }

  /** Adds an observer of broadcast starts and ends. */
  observe(o: BroadcastObserver): void {
    this.observers.push(o);
  }

  private notify(fn: (o: BroadcastObserver) => void, log: Logger): void {
    for (const o of this.observers) {
      try {
        fn(o);
      } catch (err: unknown) {
        log.error({ err: errorMessage(err) }, 'broadcast observer failed');
      }
    }
  }

  /** One sample per live channel, for the metrics (./metrics.ts). */
  sample(): LiveChannelSample[] {
    return [...this.live.values()].map((ch) => ({
      username: ch.username,
      connected: ch.connected,
      broadcasting: ch.broadcastId !== null && !ch.ending,
      sessionId: ch.sessionId,
      inBytes: typeof ch.session.inBytes === 'number' ? ch.session.inBytes : 0,
      videoBitrateKbps: ch.media?.videoBitrateKbps ?? null,
    }));
  }

  /** Health of every live channel of this node, by username (`GET /admin/health`). */
  health(): ChannelHealth[] {
    return [...this.live.values()]
      .sort((a, b) => a.username.localeCompare(b.username))
      .map((ch) => ({
        channelId: ch.channelId,
        username: ch.username,
        broadcastId: ch.broadcastId,
        connected: ch.connected,
        publishingSince: ch.since === undefined ? null : new Date(ch.since).toISOString(),
        media: ch.media ?? null,
        input: ch.health?.snapshot() ?? null,
        packager: ch.packager.status(),
      }));
  }

  /** A meter on `session`'s packets, or undefined when the session cannot be tapped. */
  private meter(session: NmsSession, log: Logger): StreamHealthMeter | undefined {
    const meter = new StreamHealthMeter();
    if (tapPackets(session as unknown as TappableSession, meter)) return meter;
    log.warn('cannot measure the input of this session (no RTMP packet callback)');
    return undefined;
  }

  /** The live channel with this id, if any (also while it is in the grace period). */
  get(channelId: string): LiveChannel | undefined {
    return this.live.get(channelId);
  }

  /** Internal RTMP URL of a stream key (loopback unless HOST is a specific address). Contains the key: never log it. */
  internalUrl(streamKey: string): string {
    const h = this.cfg.HOST;
    const host = h === '0.0.0.0' || h === '::' || h === '' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h;
    return `rtmp://${host}:${this.cfg.INGEST_RTMP_PORT}/live/${streamKey}`;
  }

  private enqueue(channelId: string, op: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(channelId) ?? Promise.resolve())
      .then(op)
      .catch((err: unknown) => this.log.error({ channelId, err: errorMessage(err) }, 'channel operation failed'));
    this.chains.set(channelId, next);
    void next.then(() => {
      if (this.chains.get(channelId) === next) this.chains.delete(channelId);
    });
    return next;
  }

  /**
   * An authorized publisher (accepted by NMS) for `channelId`. Starts packaging and the broadcast, or — when the
   * channel is still live on this node (reconnect within the grace period) — just attaches the new session.
   * @param streamKey the plaintext key, only to build the internal RTMP URL for ffmpeg/ffprobe.
   */
  publish(session: NmsSession, channelId: string, username: string, keyHash: string, streamKey: string, log: Logger): void {
    const existing = this.live.get(channelId);
    if (existing && !existing.ending) {
      existing.session = session;
      existing.sessionId = session.id;
      existing.streamKey = streamKey;
      existing.connected = true;
      existing.log = log;
      const meter = this.meter(session, log);
      if (meter) existing.health = meter;
      else delete existing.health;
      existing.since = Date.now();
      if (existing.fallbackTimer) clearTimeout(existing.fallbackTimer);
      existing.fallbackTimer = null;
      // The new session's URL: the key may have been rotated within the grace period (another NMS stream path).
      const inputUrl = this.internalUrl(streamKey);
      existing.packager.newPublisher({ inputUrl, secret: streamKey });
      log.info({ broadcastId: existing.broadcastId }, 'publisher resumed within the grace period');
      const broadcastId = existing.broadcastId;
      if (broadcastId) this.notify((o) => o.resumed?.({ channelId, broadcastId, inputUrl, secret: streamKey }), log);
      // Same store channel: the packager's next run sends a new init (a discontinuity); media sequence numbers go on.
      void this.enqueue(channelId, async () => {
        existing.packager.ensureRunning();
        await this.refreshMedia(existing, streamKey);
      });
      return;
    }
    // Opened in the store on first use (the first init segment), i.e. after an earlier broadcast of the same channel
    // has finished ending on this channel's operation chain.
    let opened: ChannelMediaSink | null = null;
    const store = (): ChannelMediaSink => (opened ??= this.media.open(username));
    const sink: ChannelMediaSink = { rendition: (name) => store().rendition(name), end: () => store().end() };
    const ch: LiveChannel = {
      channelId, username, keyHash, sessionId: session.id, session, streamKey, connected: true, broadcastId: null,
      ending: false, sink, fallbackTimer: null, log, since: Date.now(),
      packager: new LivePackager({
        ffmpegPath: this.cfg.FFMPEG_PATH,
        inputUrl: this.internalUrl(streamKey),
        secret: streamKey,
        partSeconds: this.cfg.partSeconds,
        renditions: this.cfg.renditions,
        keyframeFix: this.cfg.keyframeFix,
        keyframeFixSeconds: this.cfg.keyframeFixSeconds,
        reencodeBudget: this.reencodes,
        source: () => sourceInfo(ch),
        sink,
        maxRestarts: this.cfg.ffmpegMaxRestarts,
        shouldRun: () => ch.connected && !ch.ending,
        log: log.child({ component: 'packager' }),
      }),
    };
    const meter = this.meter(session, log);
    if (meter) ch.health = meter;
    this.live.set(channelId, ch);
    void this.enqueue(channelId, () => this.start(ch, streamKey));
  }

  private async start(ch: LiveChannel, streamKey: string): Promise<void> {
    if (ch.ending) return;
    // Passthrough only: package at once (first part fast), learn the media meanwhile. A ladder with encoded steps
    // needs the source height first (never upscale): the publisher's onMetaData usually arrives with the publish.
    const ladder = this.cfg.renditions.length > 1;
    if (!ladder) ch.packager.ensureRunning();
    const media = await this.mediaInfo(ch, streamKey);
    if (ch.ending) return;
    ch.media = media;
    if (ladder) ch.packager.ensureRunning();
    const broadcastId = randomUUID();
    ch.broadcastId = broadcastId;
    try {
      const r = await retry(() => this.commands.broadcastStart({ channelId: ch.channelId, broadcastId, media }), 3, 500);
      if (!r.ok) {
        ch.broadcastId = null;
        ch.log.warn({ code: r.code, message: r.message }, 'command side refused the broadcast start; closing the publish');
        void this.end(ch, 'error');
        return;
      }
      ch.record = r.record;
      ch.log.info({ broadcastId, media, record: r.record }, 'broadcast started');
      // The channel may have ended while the command side answered: its observers must not start (nothing would stop
      // them), e.g. a restream of a broadcast already over. `end` records the broadcast end with this id.
      if (ch.ending) {
        ch.log.info({ broadcastId }, 'the channel ended during the broadcast start; observers not told');
        return;
      }
      // The current session's key: the publisher may have reconnected with a rotated key in the meantime.
      const inputUrl = this.internalUrl(ch.streamKey);
      const record = r.record;
      this.notify((o) => o.started({ channelId: ch.channelId, broadcastId, username: ch.username, record, inputUrl, secret: ch.streamKey, log: ch.log }), ch.log);
    } catch (err: unknown) {
      ch.log.error({ broadcastId, err: errorMessage(err) }, 'could not record the broadcast start; closing the publish');
      void this.end(ch, 'error');
    }
  }

  /**
   * After a reconnect within the grace period: learns the new session's media (the encoder may have changed its
   * resolution or frame rate) and, when the picture size or frame rate changed, restarts the packager so the ladder
   * is planned for the new source (never upscaled) and the renditions announce the new frame rate.
   */
  private async refreshMedia(ch: LiveChannel, streamKey: string): Promise<void> {
    const session = ch.session;
    const before = ch.media ?? null;
    const media = await this.mediaInfo(ch, streamKey);
    if (ch.ending || ch.session !== session) return;
    ch.media = media;
    if (before && (before.width !== media.width || before.height !== media.height || before.frameRate !== media.frameRate)) {
      ch.log.info({ before: { width: before.width, height: before.height, frameRate: before.frameRate }, media }, 'the resumed session changed the picture; re-planning the renditions');
      ch.packager.sourceChanged();
    }
  }

  /** Media info from the publisher's onMetaData (waiting up to INGEST_METADATA_WAIT_MS), completed by ffprobe. */
  private async mediaInfo(ch: LiveChannel, streamKey: string): Promise<MediaInfo> {
    const deadline = Date.now() + this.cfg.metadataWaitMs;
    while (!hasSessionMetadata(ch.session) && Date.now() < deadline && ch.connected) await sleep(100);
    const fromMeta = hasSessionMetadata(ch.session) ? mediaInfoFromSession(ch.session) : null;
    const complete = fromMeta && (fromMeta.videoCodec === null || (fromMeta.width !== null && fromMeta.height !== null && fromMeta.frameRate !== null));
    if (fromMeta && complete) return fromMeta;
    try {
      const probed = await probeMedia(this.cfg.ffprobePath, this.internalUrl(streamKey));
      if (!fromMeta) return probed;
      const merged = { ...fromMeta };
      for (const k of Object.keys(merged) as (keyof MediaInfo)[]) {
        if (merged[k] === null) (merged as Record<string, unknown>)[k] = probed[k];
      }
      return merged;
    } catch (err: unknown) {
      ch.log.warn({ err: errorMessage(err) }, 'media probe failed');
      return fromMeta ?? EMPTY_MEDIA;
    }
  }

  /**
   * The publisher's socket closed. The broadcast stays up for the grace period (NMS then emits donePublish); a
   * fallback timer (grace + 5 s) ends it should that event never come.
   */
  disconnected(session: NmsSession): void {
    for (const ch of this.live.values()) {
      if (ch.sessionId !== session.id || ch.ending) continue;
      ch.connected = false;
      ch.log.info('publisher disconnected; waiting for the grace period');
      const grace = this.cfg.INGEST_PUBLISH_GRACE_MS + 5000;
      ch.fallbackTimer = setTimeout(() => {
        if (!ch.connected && ch.sessionId === session.id) void this.end(ch, 'unpublished');
      }, grace);
      ch.fallbackTimer.unref();
    }
  }

  /** NMS ended the publish of `session` (after the grace period). Ends the channel if that session still owns it. */
  unpublished(session: NmsSession, channelId: string): void {
    const ch = this.live.get(channelId);
    if (ch && ch.sessionId === session.id) void this.end(ch, 'unpublished');
  }

  /**
   * Ends a live channel: sends `ingest.broadcast-end` (retried), stops ffmpeg and ends the store's playlists, closes
   * the publisher if still connected, lets the store forget the channel after INGEST_HLS_CLEANUP_DELAY_MS, then awaits
   * the observers' `finished` (the recording is finalized and announced there). Idempotent.
   */
  end(ch: LiveChannel, reason: BroadcastEndReason): Promise<void> {
    if (ch.ending) return this.chains.get(ch.channelId) ?? Promise.resolve();
    ch.ending = true;
    if (ch.fallbackTimer) clearTimeout(ch.fallbackTimer);
    if (this.live.get(ch.channelId) === ch) this.live.delete(ch.channelId);
    if (ch.connected && reason !== 'ingest_restart') ch.session.close();
    return this.enqueue(ch.channelId, async () => {
      const broadcastId = ch.broadcastId;
      if (broadcastId) this.notify((o) => o.ended({ channelId: ch.channelId, broadcastId, username: ch.username }), ch.log);
      const ended = broadcastId
        ? retry(() => this.commands.broadcastEnd({ channelId: ch.channelId, broadcastId, reason }), 4, 500).then(
            (r) => ch.log.info({ broadcastId, reason, ok: r.ok }, 'broadcast ended'),
            (err: unknown) => ch.log.error({ broadcastId, reason, err: errorMessage(err) }, 'could not record the broadcast end'),
          )
        : Promise.resolve();
      await Promise.all([ended, ch.packager.finish()]);
      // A new publish of the same channel after this point opens the store channel again (a new broadcast).
      if (!this.live.has(ch.channelId)) this.media.close(ch.username, this.cfg.hlsCleanupDelayMs);
      // The store closed the last segments: observers finish their work on the broadcast (the recording, issue 11).
      for (const o of this.observers) {
        if (!o.finished) continue;
        try {
          await o.finished({ channelId: ch.channelId, broadcastId, username: ch.username, record: ch.record ?? null });
        } catch (err: unknown) {
          ch.log.error({ broadcastId, err: errorMessage(err) }, 'broadcast observer failed to finish');
        }
      }
    });
  }

  /**
   * Shutdown: ends every live channel (`ingest_restart` when its publisher is still connected, else `unpublished`)
   * and waits for all channel operations.
   */
  async shutdown(): Promise<void> {
    await Promise.all([...this.live.values()].map((ch) => this.end(ch, ch.connected ? 'ingest_restart' : 'unpublished')));
    await Promise.all([...this.chains.values()]);
  }
}

/**
 * What the packager knows of a channel's source when (re)starting ffmpeg: the height and frame rate from the
 * broadcast's media info, bitrates measured from the RTMP packets (else the announced video bitrate).
 */
function sourceInfo(ch: LiveChannel): SourceInfo {
  const input = ch.health?.snapshot() ?? null;
  return {
    height: ch.media?.height ?? null,
    frameRate: ch.media?.frameRate ?? null,
    videoKbps: input?.videoBitrateKbps ?? ch.media?.videoBitrateKbps ?? null,
    audioKbps: input?.audioBitrateKbps ?? null,
  };
}
