/**
 * Creating clips (issue 11 item 5, `POST /clips`): checks the caller's rate limit (`CLIP_RATE_LIMIT`), finds the
 * recording in storage (its manifest), reads the media playlist of its highest-BANDWIDTH rendition, chooses the
 * keyframe-aligned segments (./clip-cutter.ts), cuts them with one ffmpeg run (stream copy) under a per-process
 * concurrency cap and a time limit, stores `clips/<clipId>.mp4` and `.jpg`, then appends `ClipCreated`.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { HttpException, Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { CLIP_RATE_LIMIT, clipKey, recordingKey, vodMediaPlaylistFile, type CreateClipReply, type CreateClipRequest } from '@eventcast/contracts';
import type { EventMetadata } from '@eventcast/events';
import type { MediaStorage } from '@eventcast/media-storage';
import type { Logger } from '@eventcast/platform';
import { AccountReader } from '../accounts/account-reader.js';
import type { CommandApiConfig } from '../core/config.js';
import { Aggregates } from '../core/aggregates.js';
import { CONFIG, LOGGER } from '../core/tokens.js';
import { chooseClipRange, ClipTimeoutError, cutClip, placeSegments, UnusablePlaylistError, type PlacedPlaylist, type PlacedSegment } from './clip-cutter.js';
import { startsWithSyncSample, videoTrackOf } from './fmp4-sync.js';
import { ClipRateLimiter } from './clip-rate-limit.js';
import { MEDIA_STORAGE, readRecordingManifest } from './storage.js';

/** Default cap of clips cut at once by one process. */
export const DEFAULT_CLIP_CONCURRENCY = 2;
/** Default time limit of one clip's ffmpeg run, ms. */
export const DEFAULT_CLIP_TIMEOUT_MS = 60_000;

/** An HTTP refusal with a machine-readable `code` (and `Retry-After` seconds for 429/503). */
export class ClipRefusal extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super({ statusCode: status, message, code }, status);
  }
}

/** Clip creation. One instance per process (the concurrency cap is per process). */
@Injectable()
export class ClipsService implements OnModuleDestroy {
  private running = 0;
  private readonly limiter: ClipRateLimiter;

  constructor(
    private readonly aggregates: Aggregates,
    @Inject(MEDIA_STORAGE) private readonly storage: MediaStorage,
    @Inject(CONFIG) private readonly config: CommandApiConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly accounts: AccountReader,
  ) {
    this.limiter = new ClipRateLimiter(config.DATABASE_URL);
  }

  /** Closes the rate limiter's pool. */
  async onModuleDestroy(): Promise<void> {
    await this.limiter.close();
  }

  /**
   * Cuts and records a clip for account `userId`.
   * `fromLive` of the clip: the broadcast was still live (its manifest's `endedAt` null), whether the clip is of its
   * last seconds or of an earlier range (rewind).
   * @throws {ClipRefusal} 404 `broadcast_not_found` (no recording, or its deletion is recorded), 409 `not_live` (a
   * live clip of an ended broadcast), 409 `not_recorded` (no media in the range), 429 `clip_rate_limited`, 503 `clip_busy` (the process
   * already cuts its maximum of clips) or `clip_timeout`.
   * @throws {DomainError} `account_not_found`.
   */
  async create(userId: string, req: CreateClipRequest, metadata: EventMetadata): Promise<CreateClipReply> {
    const { account } = await this.accounts.require(userId);
    const manifest = await readRecordingManifest(this.storage, req.broadcastId);
    if (!manifest) throw new ClipRefusal(404, 'broadcast_not_found', `no recording of broadcast ${req.broadcastId}`);
    const live = manifest.endedAt === null;
    if (req.startSeconds === undefined && !live) {
      throw new ClipRefusal(409, 'not_live', 'the broadcast has ended: clip a range of its VOD (give startSeconds)');
    }
    // Files of a VOD whose deletion is recorded may linger until the retention job retries: not clippable.
    const broadcasts = (await this.aggregates.broadcasts.load(manifest.channelId)).state;
    if (broadcasts.broadcasts.get(req.broadcastId)?.recording === 'deleted') {
      throw new ClipRefusal(404, 'broadcast_not_found', `the recording of broadcast ${req.broadcastId} was deleted`);
    }
    const rendition = [...manifest.renditions].sort((a, b) => b.bandwidth - a.bandwidth)[0];
    if (!rendition) throw new ClipRefusal(409, 'not_recorded', 'the recording has no rendition');

    const decision = await this.limiter.take(userId);
    if (!decision.allowed) {
      throw new ClipRefusal(429, 'clip_rate_limited', `at most ${this.rateLimitText()}; retry in ${decision.retryAfterSeconds} s`, decision.retryAfterSeconds);
    }
    const cap = this.config.CLIP_CONCURRENCY ?? DEFAULT_CLIP_CONCURRENCY;
    if (this.running >= cap) {
      await this.limiter.refund(userId);
      throw new ClipRefusal(503, 'clip_busy', 'the server is cutting as many clips as it can; retry in a few seconds', 5);
    }
    this.running++;
    let refund = true;
    try {
      const playlist = await this.storage.get(recordingKey(req.broadcastId, vodMediaPlaylistFile(rendition.name)));
      if (!playlist) throw new ClipRefusal(409, 'not_recorded', 'the recording has no media playlist yet');
      let placed: PlacedPlaylist;
      try {
        placed = placeSegments(playlist.toString('utf8'));
      } catch (err) {
        if (err instanceof UnusablePlaylistError) throw new ClipRefusal(409, 'not_recorded', err.message);
        throw err;
      }
      const keyframes = placed.independentSegments ? undefined : this.keyframeProbe(req.broadcastId);
      const range = await chooseClipRange(placed.segments, req.startSeconds, req.durationSeconds, keyframes);
      if (!range) throw new ClipRefusal(409, 'not_recorded', 'the recording has no media in that range');
      const timeoutMs = this.config.CLIP_TIMEOUT_MS ?? DEFAULT_CLIP_TIMEOUT_MS;
      const started = Date.now();
      let cut;
      try {
        cut = await cutClip(this.storage, req.broadcastId, range, timeoutMs);
      } catch (err) {
        if (err instanceof ClipTimeoutError) throw new ClipRefusal(503, 'clip_timeout', err.message, 5);
        throw err;
      }
      const clipId = randomUUID();
      try {
        await this.storage.putFile(clipKey(clipId, 'mp4'), cut.mp4);
        await this.storage.putFile(clipKey(clipId, 'jpg'), cut.jpg);
      } finally {
        await rm(cut.dir, { recursive: true, force: true });
      }
      const first = range.segments[0]!;
      const startedAtMs = first.programDateTimeMs ?? Date.parse(manifest.startedAt) + first.offsetMs;
      const clip = {
        clipId,
        channelId: manifest.channelId,
        username: manifest.username,
        broadcastId: req.broadcastId,
        createdBy: userId,
        createdByName: account.username,
        title: req.title,
        startOffsetMs: range.startMs,
        durationMs: cut.durationMs,
        startedAt: new Date(startedAtMs).toISOString(),
        fromLive: live,
        bytes: cut.bytes,
      };
      let position: bigint | null | undefined;
      try {
        ({ position } = await this.aggregates.clips.handle(clipId, { type: 'CreateClip', clip }, { ...metadata, actorId: userId }));
      } catch (err) {
        await Promise.allSettled([this.storage.delete(clipKey(clipId, 'mp4')), this.storage.delete(clipKey(clipId, 'jpg'))]);
        throw err;
      }
      refund = false;
      this.logger.info(
        { correlationId: metadata.correlationId, clipId, broadcastId: req.broadcastId, rendition: rendition.name, segments: range.segments.length, durationMs: cut.durationMs, bytes: cut.bytes, tookMs: Date.now() - started },
        'clip created',
      );
      return { clipId, startSeconds: range.startMs / 1000, durationSeconds: cut.durationMs / 1000, position: String(position ?? '') };
    } finally {
      this.running--;
      if (refund) await this.limiter.refund(userId);
    }
  }

  /**
   * For playlists without EXT-X-INDEPENDENT-SEGMENTS: whether a segment of recording `broadcastId` starts with a
   * keyframe of its video track, read from its boxes (./fmp4-sync.ts); null when unknown (a file missing or
   * unreadable, no video track).
   */
  private keyframeProbe(broadcastId: string): (segment: PlacedSegment) => Promise<boolean | null> {
    const tracks = new Map<string, Promise<ReturnType<typeof videoTrackOf>>>();
    return async (segment) => {
      let track = tracks.get(segment.init);
      if (!track) {
        track = this.storage.get(recordingKey(broadcastId, segment.init)).then((b) => (b ? videoTrackOf(b) : null));
        tracks.set(segment.init, track);
      }
      const t = await track;
      const data = t ? await this.storage.get(recordingKey(broadcastId, segment.file)) : null;
      return t && data ? startsWithSyncSample(data, t) : null;
    };
  }

  private rateLimitText(): string {
    return `${CLIP_RATE_LIMIT.count} clips per ${CLIP_RATE_LIMIT.windowSeconds / 60} minutes`;
  }
}
