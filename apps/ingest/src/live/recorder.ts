/**
 * The recorder (issue 11): persists every closed segment of every rendition of a broadcast from the live media store
 * (./store.ts) to the media storage (`@eventcast/media-storage`, keys of `@eventcast/contracts` vod.ts), keeps the
 * recording's playlists current while the broadcast is live (the DVR window players load at
 * `/vod/<broadcastId>/index.m3u8`), and finalizes it when the broadcast ends: VOD playlists, thumbnail, manifest,
 * then `ingest.broadcast-recorded` with the timeline (or, when the channel does not keep VODs, deletes it).
 *
 * - **What is recorded**: each store channel session ({@link ChannelState}: one broadcast, reconnects within the
 *   grace period included) is one recording. The store listener, called synchronously on every change, takes each
 *   newly closed segment (`RenditionState.segmentBytes`, the same buffer the origin serves) and each new init
 *   generation, with the same msn and gen as the store; keys `recordings/<broadcastId>/<r>-<msn>.m4s` and
 *   `<r>-i<gen>.mp4`. Packaging starts before `ingest.broadcast-start` answers, so writes are held until the broadcast
 *   id is known ({@link Recorder.started}) and then run — the segments closed meanwhile are back-filled that way.
 * - **Writes never block live delivery**: one sequential write queue per rendition, run on the event loop's I/O
 *   (the store listener only enqueues). Bounded by `maxPendingBytes` per rendition: on overflow the oldest pending
 *   media segment is dropped (logged, counted in `eventcast_ingest_recording_writes_total{outcome="dropped"}`) —
 *   the playlists then carry an EXT-X-DISCONTINUITY at the gap. A failed write is logged and counted, never thrown.
 * - **Playlists**: after new segments are stored the rendition's EVENT media playlist is rewritten (at once when the
 *   queue is empty, else every {@link PLAYLIST_EVERY} segments; a long recording's less often, see
 *   `writePlaylist`), built incrementally and listing only stored segments, so a player never gets
 *   a 404 for a listed segment. `index.m3u8` is written once renditions have media and again when their set or
 *   descriptors change, or a peak bit rate grows by more than 10 %. Rendering: ./vod-playlist.ts.
 * - **Per-segment facts** (msn, gen, duration, program date time, bytes, discontinuity, independence) stay in memory,
 *   so finalizing a 1-hour broadcast writes a few playlists and re-reads nothing.
 * - **Finalize** ({@link Recorder.finished}, called by the channel manager after the packager finished and the store
 *   closed the last segments): waits for the queues, writes the VOD playlists (`EXT-X-PLAYLIST-TYPE:VOD` +
 *   `EXT-X-ENDLIST`), `index.m3u8`, `thumbnail.jpg` (the thumbnailer's latest picture, else one keyframe decoded by
 *   ffmpeg from a middle segment), `manifest.json` with `endedAt`, then sends `ingest.broadcast-recorded` (retried).
 *   With `record: false` (the channel keeps no VODs) the recording prefix is deleted instead.
 * - **Crash recovery** ({@link Recorder.recover}): recordings whose manifest still says `endedAt: null` (the ingest
 *   was killed) are finalized from their stored EVENT playlists.
 */
import { spawn } from 'node:child_process';
import HLS from 'hls-parser';
import {
  RECORDING_MANIFEST_FILE,
  VOD_MULTIVARIANT_PLAYLIST,
  VOD_THUMBNAIL_FILE,
  parseVodFileName,
  recordingKey,
  recordingManifestSchema,
  recordingPrefix,
  vodInitFile,
  vodMediaPlaylistFile,
  vodSegmentFile,
  type BroadcastRecordedRequest,
  type RecordedRendition,
  type RecordingManifest,
} from '@eventcast/contracts';
import type { MediaStorage } from '@eventcast/media-storage';
import type { Logger } from '@eventcast/platform';
import type { CommandClient } from '../command-client.js';
import { recordingMetrics } from '../metrics.js';
import { errorMessage, retry } from '../util.js';
import type { RenditionDescriptor, ThumbnailSource } from './media-sink.js';
import type { ChannelState, LiveMediaStore, RenditionState } from './store.js';
import { MediaPlaylistBuilder, measureSegments, recordingTimeline, renderVodMediaPlaylist, renderVodMultivariantPlaylist, type RecordedSegment } from './vod-playlist.js';

/** While a rendition's queue is not empty, its media playlist is rewritten after this many stored segments. */
export const PLAYLIST_EVERY = 8;
/** Default bound of a rendition's pending writes (bytes). */
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** Options of {@link Recorder}. */
export interface RecorderOptions {
  store: LiveMediaStore;
  /** Where recordings go (`LocalDiskStorage(RECORDINGS_DIR)`). */
  storage: MediaStorage;
  /** Sends `ingest.broadcast-recorded`. */
  commands: Pick<CommandClient, 'broadcastRecorded'>;
  /** The live thumbnails (the recording's `thumbnail.jpg` is the channel's latest one when there is one). */
  thumbnails?: ThumbnailSource;
  /** ffmpeg binary for the fallback thumbnail (default `ffmpeg`). */
  ffmpegPath?: string;
  log: Logger;
  /** Bound of one rendition's pending writes in bytes (default 64 MiB); the oldest pending segment is dropped beyond it. */
  maxPendingBytes?: number;
  /** Attempts of `ingest.broadcast-recorded` (default 4, 0.5 s, 1 s, 2 s apart). */
  announceAttempts?: number;
  /** Delay before the first retry of `ingest.broadcast-recorded`, ms (default 500). */
  announceRetryMs?: number;
}

/** The broadcast a recording belongs to, from `ingest.broadcast-start`. */
export interface RecordingBroadcast {
  channelId: string;
  broadcastId: string;
  username: string;
  /** Whether the channel keeps the broadcast as a VOD (`broadcastStartReplySchema.record`). */
  record: boolean;
}

type WriteItem = { kind: 'init'; gen: number; data: Buffer } | { kind: 'segment'; fact: RecordedSegment; data: Buffer };

/** One rendition of a recording: its stored segments (facts only) and its write queue. */
class RecordingRendition {
  /** Stored media segments in msn order. */
  readonly segments: RecordedSegment[] = [];
  readonly storedInits = new Set<number>();
  initBytes = 0;
  /** Last msn and gen taken from the store. */
  lastMsn = -1;
  lastGen = -1;
  readonly items: WriteItem[] = [];
  pendingBytes = 0;
  running: Promise<void> | null = null;
  /** Segments stored since the media playlist was last written, and when it was (ms). */
  unlisted = 0;
  playlistAt = 0;
  /** A deferred playlist write ({@link Recorder.writePlaylist}): its timer, and the runner's order to do it. */
  flushTimer: NodeJS.Timeout | null = null;
  flushWanted = false;
  dropped = 0;
  /** The media playlist of the stored segments, built as they are stored. */
  readonly playlist: MediaPlaylistBuilder;
  constructor(
    readonly name: string,
    public descriptor: RenditionDescriptor,
    targetDurationSeconds: number,
  ) {
    this.playlist = new MediaPlaylistBuilder(name, targetDurationSeconds);
  }
}

/** One recording: a store channel session. */
class Recording {
  broadcast: RecordingBroadcast | null = null;
  readonly renditions = new Map<string, RecordingRendition>();
  startedAt = new Date();
  /** Writes of the recording's own files (manifest, index), one after another. */
  chain: Promise<void> = Promise.resolve();
  indexQueued = false;
  /** What the last written `index.m3u8` said: its structure and each rendition's peak. */
  indexShape = '';
  readonly indexPeaks = new Map<string, number>();
  thumbnail: Buffer | null = null;
  finalizing = false;
  constructor(
    readonly channel: ChannelState,
    readonly username: string,
  ) {}
}

/** A rendition as the finalization sees it. */
interface FinalRendition {
  name: string;
  descriptor: Pick<RenditionDescriptor, 'codecs' | 'width' | 'height' | 'frameRate'>;
  segments: readonly RecordedSegment[];
  initBytes: number;
  /** The playlist built while recording (absent after a crash: rendered from `segments`). */
  playlist?: MediaPlaylistBuilder;
}

/** See the module comment. Never throws into the store or the channel manager. */
export class Recorder {
  private readonly recordings = new Map<ChannelState, Recording>();
  /** Broadcasts started before their store channel had media (the packager's first init still to come). */
  private readonly expected = new Map<string, RecordingBroadcast & { at: Date }>();
  private readonly maxPending: number;
  private unsubscribe: (() => void) | null = null;
  private unreport: (() => void) | null = null;
  /** When this recorder was made: recordings started since are this process's own (never "recovered"). */
  private readonly bootAtMs = Date.now();

  constructor(private readonly o: RecorderOptions) {
    this.maxPending = o.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
  }

  /** Subscribes to the live media store. */
  start(): void {
    this.unsubscribe ??= this.o.store.subscribe((ch, r) => {
      try {
        this.capture(ch, r);
      } catch (err: unknown) {
        this.o.log.error({ username: ch.username, err: errorMessage(err) }, 'recording: capture failed');
      }
    });
    this.unreport ??= recordingMetrics.pending(() => this.pendingBytes());
  }

  /** Unsubscribes (pending writes still run). */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.unreport?.();
    this.unreport = null;
  }

  /** Bytes waiting in the write queues. */
  pendingBytes(): number {
    let n = 0;
    for (const rec of this.recordings.values()) for (const rr of rec.renditions.values()) n += rr.pendingBytes;
    return n;
  }

  /** Recordings in memory (live or finalizing). */
  activeCount(): number {
    return this.recordings.size;
  }

  /**
   * The broadcast of `username`'s current store channel is known (`ingest.broadcast-start` answered): its writes
   * start, back-filling what was taken from the store meanwhile, and `manifest.json` is written (`endedAt` null).
   */
  started(b: RecordingBroadcast): void {
    const rec = [...this.recordings.values()].find((r) => r.username === b.username && !r.channel.ended && !r.finalizing && r.broadcast === null);
    if (rec) this.attach(rec, b, new Date());
    else this.expected.set(b.username, { ...b, at: new Date() });
  }

  /** The broadcast ends (before the packager stops): keeps the channel's latest thumbnail for the recording. */
  ended(b: { broadcastId: string; username: string }): void {
    const rec = this.find(b.username, b.broadcastId);
    const t = this.o.thumbnails?.thumbnail(b.username);
    if (rec && t) rec.thumbnail = t.jpeg;
  }

  /**
   * The channel's live session is over and the store closed its last segments: finalizes the recording of
   * `broadcastId` (see the module comment); recordings of the username that never got a broadcast are dropped.
   * Resolves when the VOD is complete and announced (or deleted). Never rejects.
   */
  async finished(b: { username: string; broadcastId: string | null; channelId?: string; record?: boolean | null }): Promise<void> {
    const exp = this.expected.get(b.username);
    if (exp && (b.broadcastId === null || exp.broadcastId === b.broadcastId)) this.expected.delete(b.username);
    for (const rec of [...this.recordings.values()]) {
      if (rec.username !== b.username || rec.finalizing) continue;
      if (rec.broadcast === null && rec.channel.ended && b.broadcastId && b.channelId && typeof b.record === 'boolean') {
        // The channel ended while the command side answered the broadcast start (`started` was never called): the
        // broadcast exists, so its recording does too.
        this.attach(rec, { channelId: b.channelId, broadcastId: b.broadcastId, username: b.username, record: b.record }, rec.startedAt);
      }
      if (rec.broadcast === null) {
        if (rec.channel.ended) this.discard(rec, 'the broadcast never started');
        continue;
      }
      if (rec.broadcast.broadcastId === b.broadcastId) await this.finalize(rec);
    }
  }

  private find(username: string, broadcastId: string): Recording | undefined {
    return [...this.recordings.values()].find((r) => r.username === username && r.broadcast?.broadcastId === broadcastId);
  }

  private discard(rec: Recording, why: string): void {
    this.recordings.delete(rec.channel);
    let bytes = 0;
    for (const rr of rec.renditions.values()) {
      bytes += rr.pendingBytes;
      rr.items.length = 0;
      rr.pendingBytes = 0;
      if (rr.flushTimer) clearTimeout(rr.flushTimer);
    }
    this.o.log.info({ username: rec.username, bytes, why }, 'recording: nothing to keep');
  }

  private attach(rec: Recording, b: RecordingBroadcast, at: Date): void {
    rec.broadcast = b;
    rec.startedAt = at;
    this.o.log.info({ username: b.username, broadcastId: b.broadcastId, keep: b.record }, 'recording started');
    this.enqueueOwn(rec, 'manifest', () => this.writeManifest(rec, null));
    for (const rr of rec.renditions.values()) this.kick(rec, rr);
  }

  /** Store listener: takes the new init generation and the newly closed segments of `r`. */
  private capture(ch: ChannelState, r: RenditionState): void {
    let rec = this.recordings.get(ch);
    if (!rec) {
      if (ch.ended) return;
      rec = new Recording(ch, ch.username);
      this.recordings.set(ch, rec);
      const exp = this.expected.get(ch.username);
      if (exp) {
        this.expected.delete(ch.username);
        this.attach(rec, exp, exp.at);
      }
    }
    if (rec.finalizing) return;
    let rr = rec.renditions.get(r.name);
    if (!rr) {
      rr = new RecordingRendition(r.name, r.descriptor, this.o.store.options.targetDurationSeconds);
      rec.renditions.set(r.name, rr);
    }
    rr.descriptor = r.descriptor;
    if (r.gen > rr.lastGen) {
      const init = r.inits.get(r.gen);
      rr.lastGen = r.gen;
      if (init) this.push(rec, rr, { kind: 'init', gen: r.gen, data: init });
    }
    const last = r.segments.at(-1);
    if (last && last.msn > rr.lastMsn) {
      for (const seg of r.segments) {
        if (seg.msn <= rr.lastMsn) continue;
        rr.lastMsn = seg.msn;
        const data = r.segmentBytes(seg);
        this.push(rec, rr, {
          kind: 'segment',
          data,
          fact: {
            msn: seg.msn,
            gen: seg.gen,
            durationMs: Math.round(seg.durationSeconds * 1000),
            programDateTimeMs: seg.programDateTimeMs,
            bytes: data.length,
            discontinuity: seg.discontinuity,
            independent: seg.startsIndependent,
            startup: seg.startup,
          },
        });
      }
    }
  }

  /** Queues a write; beyond the bound drops the oldest pending media segment. */
  private push(rec: Recording, rr: RecordingRendition, item: WriteItem): void {
    rr.items.push(item);
    rr.pendingBytes += item.data.length;
    while (rr.pendingBytes > this.maxPending && rr.items.length > 1) {
      const i = rr.items.findIndex((x) => x.kind === 'segment');
      if (i < 0 || i === rr.items.length - 1) break;
      const [gone] = rr.items.splice(i, 1);
      if (!gone) break;
      rr.pendingBytes -= gone.data.length;
      rr.dropped++;
      recordingMetrics.write('segment', 'dropped');
      if (rr.dropped === 1 || rr.dropped % 100 === 0) {
        this.o.log.warn(
          { username: rec.username, broadcastId: rec.broadcast?.broadcastId ?? null, rendition: rr.name, dropped: rr.dropped, pendingBytes: rr.pendingBytes },
          'recording: write queue full (storage too slow); dropped the oldest pending segment',
        );
      }
    }
    this.kick(rec, rr);
  }

  /** Starts the rendition's queue runner unless running, empty, or the broadcast id is not known yet. */
  private kick(rec: Recording, rr: RecordingRendition): void {
    if (rr.running || (rr.items.length === 0 && !rr.flushWanted) || rec.broadcast === null) return;
    rr.running = this.drain(rec, rr).finally(() => {
      rr.running = null;
      this.kick(rec, rr);
    });
  }

  private async drain(rec: Recording, rr: RecordingRendition): Promise<void> {
    const b = rec.broadcast;
    if (!b) return;
    for (let item = rr.items.shift(); item; item = rr.items.shift()) {
      rr.pendingBytes -= item.data.length;
      if (item.kind === 'init') {
        const ok = await this.put(rec, 'init', recordingKey(b.broadcastId, vodInitFile(rr.name, item.gen)), item.data);
        if (ok) {
          rr.storedInits.add(item.gen);
          rr.initBytes += item.data.length;
        }
        continue;
      }
      const f = item.fact;
      if (!rr.storedInits.has(f.gen)) {
        recordingMetrics.write('segment', 'failed');
        this.o.log.warn({ broadcastId: b.broadcastId, rendition: rr.name, msn: f.msn }, 'recording: segment skipped (its init segment was not stored)');
        continue;
      }
      if (await this.put(rec, 'segment', recordingKey(b.broadcastId, vodSegmentFile(rr.name, f.msn)), item.data)) {
        rr.segments.push(f);
        rr.playlist.add(f);
        rr.unlisted++;
      }
      await this.writePlaylist(rec, rr, false);
    }
    if (rr.flushWanted) {
      rr.flushWanted = false;
      await this.writePlaylist(rec, rr, true);
    }
  }

  /**
   * Rewrites the rendition's EVENT media playlist when segments were stored since the last write: at once when the
   * queue is empty (or every {@link PLAYLIST_EVERY} segments), but a long recording's playlist at most every 2 ms
   * per listed segment (≤ 10 s: a 1-hour recording of 1-s segments every 7 s), so its disk writes stay small; a
   * deferred write is flushed by a timer. Players of the DVR window see new segments that much later.
   */
  private async writePlaylist(rec: Recording, rr: RecordingRendition, force: boolean): Promise<void> {
    const b = rec.broadcast;
    if (!b || rr.unlisted === 0 || rec.finalizing) return;
    const now = Date.now();
    const wait = rr.playlistAt + Math.min(10_000, 2 * rr.segments.length) - now;
    if (!force && (wait > 0 || (rr.items.length > 0 && rr.unlisted < PLAYLIST_EVERY))) {
      if (wait > 0 && rr.items.length === 0 && !rr.flushTimer) {
        rr.flushTimer = setTimeout(() => {
          rr.flushTimer = null;
          rr.flushWanted = true;
          this.kick(rec, rr);
        }, wait);
        rr.flushTimer.unref();
      }
      return;
    }
    rr.unlisted = 0;
    rr.playlistAt = now;
    await this.put(rec, 'playlist', recordingKey(b.broadcastId, vodMediaPlaylistFile(rr.name)), Buffer.from(rr.playlist.render(false)));
    this.maybeWriteIndex(rec);
  }

  private mediaPlaylist(rr: { name: string; segments: readonly RecordedSegment[] }, ended: boolean): string {
    return renderVodMediaPlaylist(rr.name, rr.segments, { ended, targetDurationSeconds: this.o.store.options.targetDurationSeconds });
  }

  /** One storage write; failures are logged and counted. @returns whether it was written. */
  private async put(rec: Recording | null, kind: string, key: string, data: Buffer): Promise<boolean> {
    try {
      await this.o.storage.put(key, data);
      recordingMetrics.write(kind, 'ok', kind === 'init' || kind === 'segment' ? data.length : 0);
      return true;
    } catch (err: unknown) {
      recordingMetrics.write(kind, 'failed');
      this.o.log.error({ username: rec?.username, key, err: errorMessage(err) }, 'recording: write failed');
      return false;
    }
  }

  /** Runs `fn` on the recording's own chain (manifest, index); errors logged. */
  private enqueueOwn(rec: Recording, what: string, fn: () => Promise<unknown>): void {
    rec.chain = rec.chain.then(fn).then(
      () => undefined,
      (err: unknown) => this.o.log.error({ username: rec.username, what, err: errorMessage(err) }, 'recording: write failed'),
    );
  }

  private rows(renditions: readonly FinalRendition[]): (RecordedRendition & { durationMs: number })[] {
    return renditions
      .filter((r) => r.segments.length > 0)
      .map((r) => {
        const m = measureSegments(r.segments);
        const d = r.descriptor;
        return {
          name: r.name,
          codecs: d.codecs,
          width: d.width,
          height: d.height,
          frameRate: d.frameRate,
          bandwidth: m.peak,
          averageBandwidth: m.average,
          segments: r.segments.length,
          bytes: m.bytes + r.initBytes,
          durationMs: m.durationMs,
        };
      })
      .sort((a, b) => b.bandwidth - a.bandwidth);
  }

  /** Queues an `index.m3u8` write (and the manifest's, with the renditions) when the renditions changed or a peak grew by more than 10 %. */
  private maybeWriteIndex(rec: Recording): void {
    if (rec.indexQueued) return;
    const rows = this.rows([...rec.renditions.values()]);
    if (rows.length === 0) return;
    const shape = rows.map((r) => `${r.name}|${r.codecs}|${r.width}|${r.height}|${r.frameRate}`).sort().join(';');
    const grew = rows.some((r) => r.bandwidth > (rec.indexPeaks.get(r.name) ?? 0) * 1.1);
    if (shape === rec.indexShape && !grew) return;
    rec.indexQueued = true;
    this.enqueueOwn(rec, 'multivariant', async () => {
      rec.indexQueued = false;
      const b = rec.broadcast;
      const now = this.rows([...rec.renditions.values()]);
      if (!b || now.length === 0 || rec.finalizing) return;
      rec.indexShape = now.map((r) => `${r.name}|${r.codecs}|${r.width}|${r.height}|${r.frameRate}`).sort().join(';');
      for (const r of now) rec.indexPeaks.set(r.name, r.bandwidth);
      await this.put(rec, 'multivariant', recordingKey(b.broadcastId, VOD_MULTIVARIANT_PLAYLIST), Buffer.from(renderVodMultivariantPlaylist(now)));
      // The manifest names the renditions too: the command side cuts live clips from the one it lists first.
      await this.writeManifest(rec, null, now);
    });
  }

  private async writeManifest(rec: Recording, endedAt: Date | null, rows?: readonly RecordedRendition[]): Promise<void> {
    const b = rec.broadcast;
    if (!b) return;
    const renditions = rows ?? this.rows([...rec.renditions.values()]);
    await this.writeManifestOf(b, rec.startedAt, endedAt, renditions);
  }

  private async writeManifestOf(b: RecordingBroadcast, startedAt: Date, endedAt: Date | null, rows: readonly RecordedRendition[]): Promise<void> {
    const manifest: RecordingManifest = {
      version: 1,
      broadcastId: b.broadcastId,
      channelId: b.channelId,
      username: b.username,
      startedAt: startedAt.toISOString(),
      endedAt: endedAt?.toISOString() ?? null,
      keep: b.record,
      renditions: rows.map((r) => ({ name: r.name, bandwidth: r.bandwidth })),
    };
    await this.put(null, 'manifest', recordingKey(b.broadcastId, RECORDING_MANIFEST_FILE), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  }

  /** Waits until every queued write of the recording ran. */
  private async idle(rec: Recording): Promise<void> {
    for (;;) {
      const running = [...rec.renditions.values()].map((rr) => rr.running).filter((p): p is Promise<void> => p !== null);
      if (running.length === 0) break;
      await Promise.all(running);
    }
    for (let chain = rec.chain; ; chain = rec.chain) {
      await chain;
      if (chain === rec.chain) break;
    }
  }

  private async finalize(rec: Recording): Promise<void> {
    const b = rec.broadcast;
    if (!b) return;
    const t0 = Date.now();
    try {
      // The store closed the last segments when the channel ended; take anything the listener has not seen.
      for (const r of rec.channel.renditions.values()) this.capture(rec.channel, r);
      rec.finalizing = true;
      for (const rr of rec.renditions.values()) if (rr.flushTimer) clearTimeout(rr.flushTimer);
      await this.idle(rec);
      this.recordings.delete(rec.channel);
      const renditions: FinalRendition[] = [...rec.renditions.values()];
      await this.complete(b, rec.startedAt, renditions, rec.thumbnail);
      this.o.log.info({ broadcastId: b.broadcastId, ms: Date.now() - t0 }, 'recording finalized');
    } catch (err: unknown) {
      recordingMetrics.finalized('failed');
      this.o.log.error({ broadcastId: b.broadcastId, err: errorMessage(err) }, 'recording: finalize failed');
    } finally {
      this.recordings.delete(rec.channel);
    }
  }

  /**
   * Completes a recording whose media are all stored: VOD playlists, index, thumbnail, manifest, announcement —
   * or deletes it when the channel keeps no VODs or it holds no media.
   */
  private async complete(b: RecordingBroadcast, startedAt: Date, renditions: readonly FinalRendition[], thumbnail: Buffer | null): Promise<void> {
    const rows = this.rows(renditions);
    if (!b.record || rows.length === 0) {
      const freed = await this.o.storage.deletePrefix(recordingPrefix(b.broadcastId));
      recordingMetrics.write('delete', 'ok');
      recordingMetrics.finalized(b.record ? 'empty' : 'not_kept');
      this.o.log.info({ broadcastId: b.broadcastId, freed, reason: b.record ? 'no media' : 'the channel keeps no VODs' }, 'recording deleted at the end of the broadcast');
      return;
    }
    const key = (file: string) => recordingKey(b.broadcastId, file);
    await Promise.all(
      renditions.filter((r) => r.segments.length > 0).map((r) => this.put(null, 'playlist', key(vodMediaPlaylistFile(r.name)), Buffer.from(r.playlist?.render(true) ?? this.mediaPlaylist(r, true)))),
    );
    await this.put(null, 'multivariant', key(VOD_MULTIVARIANT_PLAYLIST), Buffer.from(renderVodMultivariantPlaylist(rows)));
    const primary = renditions.find((r) => r.name === rows[0]?.name);
    const jpeg = thumbnail ?? (primary ? await this.extractThumbnail(b.broadcastId, primary) : null);
    const hasThumbnail = jpeg !== null && (await this.put(null, 'thumbnail', key(VOD_THUMBNAIL_FILE), jpeg));
    await this.writeManifestOf(b, startedAt, new Date(), rows);
    const timeline = recordingTimeline(primary?.segments ?? []);
    const body: BroadcastRecordedRequest = {
      channelId: b.channelId,
      broadcastId: b.broadcastId,
      durationMs: rows[0]?.durationMs ?? 0,
      bytes: rows.reduce((n, r) => n + r.bytes, 0),
      renditions: rows.slice(0, 16).map(({ durationMs: _d, ...r }) => r),
      timeline,
      thumbnail: hasThumbnail,
    };
    try {
      const reply = await retry(() => this.o.commands.broadcastRecorded(body), this.o.announceAttempts ?? 4, this.o.announceRetryMs ?? 500);
      if (reply.ok) {
        recordingMetrics.finalized('announced');
        this.o.log.info({ broadcastId: b.broadcastId, durationMs: body.durationMs, bytes: body.bytes, runs: timeline.length, position: reply.position }, 'broadcast recorded');
      } else {
        recordingMetrics.finalized('failed');
        this.o.log.warn({ broadcastId: b.broadcastId, code: reply.code, message: reply.message }, 'command side refused the broadcast recording');
      }
    } catch (err: unknown) {
      recordingMetrics.finalized('failed');
      this.o.log.error({ broadcastId: b.broadcastId, err: errorMessage(err) }, 'could not announce the broadcast recording');
    }
  }

  /**
   * Decodes one keyframe of a middle segment of `r` (init + segment read by ffmpeg's `concat:` protocol from the
   * storage's local files) into a JPEG ≤ 640 px wide. @returns null when the storage has no local files or ffmpeg fails.
   */
  private async extractThumbnail(broadcastId: string, r: FinalRendition): Promise<Buffer | null> {
    const candidates = r.segments.filter((s) => s.independent && !s.startup);
    const seg = candidates[Math.floor(candidates.length / 2)] ?? r.segments[Math.floor(r.segments.length / 2)];
    if (!seg) return null;
    const init = this.o.storage.localPath(recordingKey(broadcastId, vodInitFile(r.name, seg.gen)));
    const media = this.o.storage.localPath(recordingKey(broadcastId, vodSegmentFile(r.name, seg.msn)));
    if (!init || !media || init.includes('|') || media.includes('|')) return null;
    const args = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', `concat:${init}|${media}`, '-map', '0:v:0', '-frames:v', '1', '-vf', "scale=w='min(640,iw)':h=-2", '-an', '-f', 'image2', '-c:v', 'mjpeg', '-q:v', '5', 'pipe:1'];
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let ff;
      try {
        ff = spawn(this.o.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        resolve(null);
        return;
      }
      const timer = setTimeout(() => ff.kill('SIGKILL'), 10_000);
      ff.stdout.on('data', (c: Buffer) => chunks.push(c));
      ff.once('error', () => {
        clearTimeout(timer);
        resolve(null);
      });
      ff.once('close', (code) => {
        clearTimeout(timer);
        const jpeg = Buffer.concat(chunks);
        resolve(code === 0 && jpeg.length > 2 && jpeg[0] === 0xff && jpeg[1] === 0xd8 ? jpeg : null);
      });
    });
  }

  /**
   * Crash recovery: finalizes every recording in storage whose manifest says `endedAt: null` and that an earlier run
   * started (its `startedAt` is before this recorder was made), from its stored EVENT media playlists (parsed with hls-parser; sizes from the storage listing).
   * Call once the command side is reachable. @returns the number of recordings finalized. Never rejects.
   */
  async recover(): Promise<number> {
    let n = 0;
    const manifests: string[] = [];
    try {
      for await (const o of this.o.storage.list('recordings/')) if (o.key.endsWith(`/${RECORDING_MANIFEST_FILE}`)) manifests.push(o.key);
    } catch (err: unknown) {
      this.o.log.error({ err: errorMessage(err) }, 'recording recovery: cannot list recordings');
      return 0;
    }
    for (const key of manifests) {
      try {
        const raw = await this.o.storage.get(key);
        const parsed = raw ? recordingManifestSchema.safeParse(JSON.parse(raw.toString('utf8'))) : null;
        if (!parsed?.success) {
          this.o.log.warn({ key }, 'recording recovery: unreadable manifest; left alone');
          continue;
        }
        const m = parsed.data;
        // Only recordings of an earlier run: one this process started (now or while recovering) is live.
        const mine = Date.parse(m.startedAt) >= this.bootAtMs || [...this.recordings.values()].some((r) => r.broadcast?.broadcastId === m.broadcastId);
        if (m.endedAt !== null || mine) continue;
        await this.recoverOne(m);
        n++;
      } catch (err: unknown) {
        this.o.log.error({ key, err: errorMessage(err) }, 'recording recovery failed');
      }
    }
    return n;
  }

  private async recoverOne(m: RecordingManifest): Promise<void> {
    const sizes = new Map<string, number>();
    for await (const o of this.o.storage.list(recordingPrefix(m.broadcastId))) sizes.set(o.key.slice(o.key.lastIndexOf('/') + 1), o.size);
    const descriptors = new Map<string, FinalRendition['descriptor']>();
    const index = await this.o.storage.get(recordingKey(m.broadcastId, VOD_MULTIVARIANT_PLAYLIST));
    if (index) {
      const p = HLS.parse(index.toString('utf8'));
      if (p.isMasterPlaylist) {
        for (const v of p.variants) {
          const f = parseVodFileName(v.uri);
          if (f?.kind === 'media-playlist') descriptors.set(f.rendition, { codecs: v.codecs ?? '', width: v.resolution?.width ?? null, height: v.resolution?.height ?? null, frameRate: v.frameRate ?? null });
        }
      }
    }
    const renditions: FinalRendition[] = [];
    for (const file of sizes.keys()) {
      const f = parseVodFileName(file);
      if (f?.kind !== 'media-playlist') continue;
      const text = await this.o.storage.get(recordingKey(m.broadcastId, file));
      if (!text) continue;
      const p = HLS.parse(text.toString('utf8'));
      if (p.isMasterPlaylist) continue;
      const segments: RecordedSegment[] = [];
      const gens = new Set<number>();
      for (const s of p.segments) {
        const sf = parseVodFileName(s.uri);
        const mf = s.map ? parseVodFileName(s.map.uri) : null;
        const bytes = sizes.get(s.uri);
        if (sf?.kind !== 'segment' || mf?.kind !== 'init' || bytes === undefined) continue;
        gens.add(mf.gen);
        segments.push({
          msn: sf.msn,
          gen: mf.gen,
          durationMs: Math.round(s.duration * 1000),
          programDateTimeMs: s.programDateTime?.getTime() ?? 0,
          bytes,
          discontinuity: s.discontinuity === true,
          independent: p.independentSegments === true,
          startup: false,
        });
      }
      const initBytes = [...gens].reduce((sum, g) => sum + (sizes.get(vodInitFile(f.rendition, g)) ?? 0), 0);
      renditions.push({ name: f.rendition, descriptor: descriptors.get(f.rendition) ?? { codecs: '', width: null, height: null, frameRate: null }, segments, initBytes });
    }
    this.o.log.warn({ broadcastId: m.broadcastId, renditions: renditions.length }, 'recording recovery: finalizing a recording an earlier run left unfinished');
    const b: RecordingBroadcast = { broadcastId: m.broadcastId, channelId: m.channelId, username: m.username, record: m.keep };
    await this.complete(b, new Date(m.startedAt), renditions, null);
  }
}
