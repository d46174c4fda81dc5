/**
 * Recordings, VODs, chat replay, rewind while live and clips (issue 11): the URL grammar of recorded media on the
 * ingest's origin, the storage keys the ingest and the command side share, the HTTP shapes of command-api and
 * query-api, the NATS body of `ingest.broadcast-recorded`, the limits, the `?t=` time grammar and the mapping of a
 * wall-clock instant onto a VOD's media timeline. Browser-safe: zod only. Prose in docs/contracts.md "Recordings".
 *
 * Media URLs, under the same public base as `/hls/` (./hls.ts):
 * - `/vod/<broadcastId>/index.m3u8` — multivariant playlist of a recording;
 * - `/vod/<broadcastId>/<rendition>.m3u8` — its media playlist: `EXT-X-PLAYLIST-TYPE:EVENT` while the broadcast is
 *   live (the DVR window: rewind to the start of the current broadcast), `EXT-X-PLAYLIST-TYPE:VOD` + `EXT-X-ENDLIST`
 *   once it ended; `EXT-X-PROGRAM-DATE-TIME` on the first segment and after every discontinuity;
 * - `/vod/<broadcastId>/<rendition>-i<gen>.mp4`, `/vod/<broadcastId>/<rendition>-<msn>.m4s` — init and media segments
 *   (the live store's segments, same `msn` and init generation);
 * - `/vod/<broadcastId>/thumbnail.jpg`;
 * - `/clips/<clipId>.mp4` (fragment-free MP4, `+faststart`, byte ranges served) and `/clips/<clipId>.jpg`.
 */
import { z } from './zod.js';
import { renditionNameSchema } from './hls.js';
import { ingestCommandFailureSchema } from './ingest-commands.js';

/* ------------------------------------------------------------------------------------------------------------------ */
/* Limits and defaults                                                                                                */
/* ------------------------------------------------------------------------------------------------------------------ */

/** Shortest clip, seconds. */
export const CLIP_MIN_SECONDS = 5;
/** Longest clip, seconds. */
export const CLIP_MAX_SECONDS = 60;
/** Longest clip title, characters. */
export const CLIP_TITLE_MAX_LENGTH = 100;
/** Per-user clip rate limit: at most `count` clips per `windowSeconds` (refused with 429 `clip_rate_limited`). */
export const CLIP_RATE_LIMIT = { count: 5, windowSeconds: 300 } as const;
/** Default and largest page of chat replay items. */
export const CHAT_REPLAY_PAGE_DEFAULT = 200;
export const CHAT_REPLAY_PAGE_MAX = 500;
/** Default and largest page of a VOD or clip list. */
export const VOD_LIST_PAGE_DEFAULT = 24;
export const VOD_LIST_PAGE_MAX = 100;
/** Width of one bucket of the chat-activity strip, seconds. */
export const ACTIVITY_BUCKET_SECONDS = 60;

/* ------------------------------------------------------------------------------------------------------------------ */
/* URLs and storage keys                                                                                              */
/* ------------------------------------------------------------------------------------------------------------------ */

/** File name of a recording's multivariant playlist. */
export const VOD_MULTIVARIANT_PLAYLIST = 'index.m3u8';
/** File name of a recording's thumbnail. */
export const VOD_THUMBNAIL_FILE = 'thumbnail.jpg';
/** File name of a recording's manifest ({@link recordingManifestSchema}); kept in storage, not served. */
export const RECORDING_MANIFEST_FILE = 'manifest.json';

/** Path of a recording's directory on the origin: `/vod/<broadcastId>`. */
export function vodPath(broadcastId: string): string {
  return `/vod/${encodeURIComponent(broadcastId)}`;
}
/** Path of a clip's video on the origin: `/clips/<clipId>.mp4`. */
export function clipVideoPath(clipId: string): string {
  return `/clips/${encodeURIComponent(clipId)}.mp4`;
}
/** Path of a clip's thumbnail on the origin: `/clips/<clipId>.jpg`. */
export function clipThumbnailPath(clipId: string): string {
  return `/clips/${encodeURIComponent(clipId)}.jpg`;
}

/** Storage key prefix of a recording: `recordings/<broadcastId>/` (media-storage port, docs/design.md). */
export function recordingPrefix(broadcastId: string): string {
  return `recordings/${broadcastId}/`;
}
/** Storage key of a file of a recording (a name of the {@link parseVodFileName} grammar or the manifest). */
export function recordingKey(broadcastId: string, file: string): string {
  return `${recordingPrefix(broadcastId)}${file}`;
}
/** Storage key of a clip's file: `clips/<clipId>.mp4` or `.jpg`. */
export function clipKey(clipId: string, ext: 'mp4' | 'jpg'): string {
  return `clips/${clipId}.${ext}`;
}

/** File name of a recording's media playlist: `<rendition>.m3u8`. */
export function vodMediaPlaylistFile(rendition: string): string {
  return `${rendition}.m3u8`;
}
/** File name of a recording's init segment: `<rendition>-i<gen>.mp4`. */
export function vodInitFile(rendition: string, gen: number): string {
  return `${rendition}-i${gen}.mp4`;
}
/** File name of a recording's media segment: `<rendition>-<msn>.m4s`. */
export function vodSegmentFile(rendition: string, msn: number): string {
  return `${rendition}-${msn}.m4s`;
}

/** A file of a recording's directory, as {@link parseVodFileName} reads it. */
export type VodFile =
  | { kind: 'multivariant' }
  | { kind: 'thumbnail' }
  | { kind: 'media-playlist'; rendition: string }
  | { kind: 'init'; rendition: string; gen: number }
  | { kind: 'segment'; rendition: string; msn: number };

const VOD_FILE_RE = /^([a-z0-9]{1,16})(?:\.m3u8|-(?:i(\d{1,9})\.mp4|(\d{1,15})\.m4s))$/;

/** Reads a recording file name (numbers decimal, ≤ 15 digits). @returns null for any other name (the manifest too). */
export function parseVodFileName(file: string): VodFile | null {
  if (file === VOD_MULTIVARIANT_PLAYLIST) return { kind: 'multivariant' };
  if (file === VOD_THUMBNAIL_FILE) return { kind: 'thumbnail' };
  const m = VOD_FILE_RE.exec(file);
  if (!m) return null;
  const rendition = m[1] ?? '';
  if (m[2] !== undefined) return { kind: 'init', rendition, gen: Number(m[2]) };
  if (m[3] !== undefined) return { kind: 'segment', rendition, msn: Number(m[3]) };
  return { kind: 'media-playlist', rendition };
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Media timeline                                                                                                     */
/* ------------------------------------------------------------------------------------------------------------------ */

/**
 * One run of contiguous media in a recording: media time `offsetMs` (from the start of the VOD) shows the picture
 * whose `EXT-X-PROGRAM-DATE-TIME` is `programDateTimeMs` (ms since the epoch), for `durationMs`. A new run starts at
 * every discontinuity (a packager restart, a publisher reconnect within the grace period), where wall-clock time
 * jumps while media time does not.
 */
export const timelineRunSchema = z.object({
  offsetMs: z.number().int().nonnegative(),
  programDateTimeMs: z.number().int().nonnegative(),
  durationMs: z.number().int().nonnegative(),
});
export type TimelineRun = z.infer<typeof timelineRunSchema>;
/** A recording's timeline: runs in media order, at most 10,000 (one per discontinuity). */
export const timelineSchema = z.array(timelineRunSchema).max(10_000);

/**
 * Media time (ms from the start of the VOD) at which the recording shows wall-clock instant `wallMs`, by program
 * date time (RFC 8216bis §4.4.4.6: EXT-X-PROGRAM-DATE-TIME maps the first sample of a segment to an absolute time).
 * Inside a run: linear; in a gap between runs (the broadcast was interrupted): the start of the next run; before the
 * first run: 0; after the last: the end of the media. Empty timeline: 0.
 */
export function mediaOffsetAt(timeline: readonly TimelineRun[], wallMs: number): number {
  for (const run of timeline) {
    if (wallMs < run.programDateTimeMs) return run.offsetMs;
    if (wallMs < run.programDateTimeMs + run.durationMs) return run.offsetMs + (wallMs - run.programDateTimeMs);
  }
  const last = timeline.at(-1);
  return last ? last.offsetMs + last.durationMs : 0;
}

/**
 * Wall-clock instant (ms since the epoch) shown at media time `offsetMs` of a VOD: the inverse of
 * {@link mediaOffsetAt} inside runs; clamped to the first and last picture. Empty timeline: null.
 */
export function wallClockAt(timeline: readonly TimelineRun[], offsetMs: number): number | null {
  for (const run of timeline) {
    if (offsetMs < run.offsetMs + run.durationMs) return run.programDateTimeMs + Math.max(0, offsetMs - run.offsetMs);
  }
  const last = timeline.at(-1);
  return last ? last.programDateTimeMs + last.durationMs : null;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* `?t=` start times                                                                                                  */
/* ------------------------------------------------------------------------------------------------------------------ */

const T_RE = /^(?:(\d{1,3})h)?(?:(\d{1,4})m)?(?:(\d{1,6})s)?$/;

/**
 * Reads a start time of a share link, `?t=1h2m3s` (Twitch and YouTube's form; any part may be absent, e.g. `90s`,
 * `2m`) or a bare number of seconds (`?t=3723`). @returns seconds, or null for anything else (callers start at 0).
 */
export function parseStartTime(t: string | null | undefined): number | null {
  if (!t || t.length > 16) return null;
  if (/^\d{1,6}$/.test(t)) return Number(t);
  const m = T_RE.exec(t);
  if (!m || (m[1] === undefined && m[2] === undefined && m[3] === undefined)) return null;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

/** Writes whole seconds as a `?t=` value: `3723` → `1h2m3s`, `62` → `1m2s`, `0` → `0s`. */
export function formatStartTime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${r || (!h && !m) ? `${r}s` : ''}`;
}

/* ------------------------------------------------------------------------------------------------------------------ */
/* Recording (ingest → storage → command side)                                                                        */
/* ------------------------------------------------------------------------------------------------------------------ */

/** A recorded rendition: what the multivariant playlist says of it. Bits/s, pixels, frames/s. */
export const recordedRenditionSchema = z.object({
  name: renditionNameSchema,
  codecs: z.string().max(200),
  width: z.number().int().positive().nullable(),
  height: z.number().int().positive().nullable(),
  frameRate: z.number().positive().nullable(),
  /** Peak segment bit rate (BANDWIDTH). */
  bandwidth: z.number().int().nonnegative(),
  /** Average bit rate over the recording (AVERAGE-BANDWIDTH). */
  averageBandwidth: z.number().int().nonnegative(),
  segments: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});
export type RecordedRendition = z.infer<typeof recordedRenditionSchema>;

/**
 * Body of `ingest.broadcast-recorded` (ingest → command-api), sent once the recording of an ended broadcast is
 * complete in storage (its VOD playlists written): → `BroadcastRecorded`. Durations in ms; `bytes` over all
 * renditions. Idempotent: the same broadcast recorded twice is a no-op. Reply: the ingest's usual
 * `{ ok: true, position } | { ok: false, code, message }`.
 */
export const broadcastRecordedRequestSchema = z.object({
  channelId: z.uuid(),
  broadcastId: z.uuid(),
  durationMs: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  renditions: z.array(recordedRenditionSchema).min(1).max(16),
  timeline: timelineSchema,
  /** Whether `thumbnail.jpg` was written. */
  thumbnail: z.boolean(),
});
export type BroadcastRecordedRequest = z.infer<typeof broadcastRecordedRequestSchema>;

/**
 * `recordings/<broadcastId>/manifest.json`: written by the ingest when the recording starts (`endedAt` null) and
 * again when it is complete. Read by the command side (clips, retention) to know a recording's channel and state
 * without the read models.
 */
export const recordingManifestSchema = z.object({
  version: z.literal(1),
  broadcastId: z.uuid(),
  channelId: z.uuid(),
  username: z.string(),
  /** ISO-8601. */
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  /** Whether the channel keeps the recording as a VOD (false: kept only for rewind and live clips, deleted at the end). */
  keep: z.boolean(),
  renditions: z.array(z.object({ name: renditionNameSchema, bandwidth: z.number().int().nonnegative() })),
});
export type RecordingManifest = z.infer<typeof recordingManifestSchema>;

/* ------------------------------------------------------------------------------------------------------------------ */
/* command-api HTTP                                                                                                   */
/* ------------------------------------------------------------------------------------------------------------------ */

/** Body of `PUT /me/recording`: whether the channel's next broadcasts are kept as VODs (default: on). */
export const recordingSettingSchema = z.strictObject({ enabled: z.boolean() });
export type RecordingSetting = z.infer<typeof recordingSettingSchema>;

/**
 * Body of `POST /clips` (signed in). Either the last `durationSeconds` of the live broadcast (`startSeconds` absent;
 * `broadcastId` must be live) or the range `[startSeconds, startSeconds + durationSeconds)` of a recording, media
 * time. The server cuts on keyframes (stream copy): the clip starts at the keyframe at or before the start, so it
 * can be up to one GOP longer. Errors: 400 `invalid_request`, 404 `broadcast_not_found`, 409 `not_recorded`
 * (no media for that range), 429 `clip_rate_limited` (with `Retry-After`).
 */
export const createClipRequestSchema = z.strictObject({
  broadcastId: z.uuid(),
  title: z
    .string()
    .trim()
    .min(1, 'title must not be blank')
    .max(CLIP_TITLE_MAX_LENGTH, `title must be at most ${CLIP_TITLE_MAX_LENGTH} characters`),
  startSeconds: z.number().nonnegative().max(7 * 24 * 3600).optional(),
  durationSeconds: z
    .number()
    .min(CLIP_MIN_SECONDS, `durationSeconds must be at least ${CLIP_MIN_SECONDS}`)
    .max(CLIP_MAX_SECONDS, `durationSeconds must be at most ${CLIP_MAX_SECONDS}`),
});
export type CreateClipRequest = z.infer<typeof createClipRequestSchema>;

/** Reply of `POST /clips`: the new clip and the global position of its `ClipCreated` (read-your-writes). */
export const createClipReplySchema = z.object({
  clipId: z.uuid(),
  /** Media time of the clip's first frame within the recording, seconds. */
  startSeconds: z.number().nonnegative(),
  durationSeconds: z.number().positive(),
  position: z.string(),
});
export type CreateClipReply = z.infer<typeof createClipReplySchema>;

/** Why a recording was deleted (`BroadcastRecordingDeleted.reason`). */
export const recordingDeletionReasonSchema = z.enum(['owner', 'retention', 'disk_budget', 'admin', 'not_kept']);
export type RecordingDeletionReason = z.infer<typeof recordingDeletionReasonSchema>;

/* ------------------------------------------------------------------------------------------------------------------ */
/* query-api HTTP                                                                                                     */
/* ------------------------------------------------------------------------------------------------------------------ */

/** A title change during a broadcast: a chapter of its VOD from `offsetSeconds` (media time). */
export const vodChapterSchema = z.object({ offsetSeconds: z.number().nonnegative(), title: z.string(), category: z.string() });
export type VodChapter = z.infer<typeof vodChapterSchema>;

/**
 * A VOD in a list (`GET /channels/:username/videos`) and the head of `GET /videos/:broadcastId`. URLs are origin
 * paths (./hls.ts base); `views`: unique viewers of the live broadcast (analytics) — VOD plays are not counted yet.
 */
export const vodSummarySchema = z.object({
  id: z.uuid(),
  channelId: z.uuid(),
  username: z.string(),
  /** The title and category when the broadcast started ('' when unset). */
  title: z.string(),
  category: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
  durationSeconds: z.number().nonnegative(),
  views: z.number().int().nonnegative(),
  /** `/vod/<id>/thumbnail.jpg`, or null when the recording has none. */
  thumbnailUrl: z.string().nullable(),
  playbackUrl: z.string(),
});
export type VodSummary = z.infer<typeof vodSummarySchema>;

/** `GET /videos/:broadcastId`: a VOD with its chapters, renditions and timeline. 404 `video_not_found`. */
export const vodDetailSchema = vodSummarySchema.extend({
  chapters: z.array(vodChapterSchema),
  renditions: z.array(recordedRenditionSchema),
  timeline: timelineSchema,
});
export type VodDetail = z.infer<typeof vodDetailSchema>;

/** `{ items, nextCursor }` of `GET /channels/:username/videos?cursor=&limit=` (newest first). */
export const vodListSchema = z.object({ items: z.array(vodSummarySchema), nextCursor: z.string().nullable() });
export type VodList = z.infer<typeof vodListSchema>;

/** Why a replayed message left the chat while live. */
export const replayHiddenReasonSchema = z.enum(['deleted', 'cleared', 'banned', 'timed_out']);
export type ReplayHiddenReason = z.infer<typeof replayHiddenReasonSchema>;

/**
 * One message of a chat replay. `offsetSeconds`: media time at which viewers first saw it (its `visibleAt` mapped
 * through the timeline); `hiddenAtOffsetSeconds`: media time at which it disappeared live (a delete, a clear, a ban or
 * a timeout during the broadcast), null when it stayed. Messages removed after the broadcast are not served at all.
 * `senderRole`/`badges`: as they were when it was sent.
 */
export const chatReplayMessageSchema = z.object({
  id: z.uuid(),
  senderId: z.uuid(),
  senderName: z.string(),
  senderRole: z.string(),
  badges: z.array(z.string()),
  text: z.string(),
  visibleAt: z.string(),
  offsetSeconds: z.number(),
  hiddenAtOffsetSeconds: z.number().nullable(),
  hiddenReason: replayHiddenReasonSchema.nullable(),
});
export type ChatReplayMessage = z.infer<typeof chatReplayMessageSchema>;

/**
 * A moderation action in the replay (owner and moderators only: `GET /videos/:id/moderation`): `action` as in the
 * moderation log (`delete`, `clear`, `timeout`, `ban`, `unban`, …).
 */
export const replayModerationActionSchema = z.object({
  id: z.string(),
  action: z.string(),
  moderatorName: z.string(),
  targetName: z.string().nullable(),
  reason: z.string().nullable(),
  at: z.string(),
  offsetSeconds: z.number(),
});
export type ReplayModerationAction = z.infer<typeof replayModerationActionSchema>;

/**
 * `GET /videos/:broadcastId/chat?from=<seconds>&cursor=&limit=` (and `GET /clips/:clipId/chat`, offsets relative to
 * the clip): messages with `offsetSeconds >= from`, in media order, at most `limit` ({@link CHAT_REPLAY_PAGE_MAX});
 * `nextCursor` continues after the last item (null at the end).
 */
export const chatReplayPageSchema = z.object({
  items: z.array(chatReplayMessageSchema),
  nextCursor: z.string().nullable(),
});
export type ChatReplayPage = z.infer<typeof chatReplayPageSchema>;

/** `{ items }` of `GET /videos/:broadcastId/moderation`. */
export const replayModerationListSchema = z.object({ items: z.array(replayModerationActionSchema) });
export type ReplayModerationList = z.infer<typeof replayModerationListSchema>;

/**
 * `GET /videos/:broadcastId/activity`: chat messages per {@link ACTIVITY_BUCKET_SECONDS} of media time and the
 * viewer count sampled live in that bucket (max; null without samples), for the strip over the seek bar.
 */
export const activityStripSchema = z.object({
  bucketSeconds: z.number().int().positive(),
  buckets: z.array(z.object({ offsetSeconds: z.number().nonnegative(), messages: z.number().int().nonnegative(), viewers: z.number().int().nonnegative().nullable() })),
});
export type ActivityStrip = z.infer<typeof activityStripSchema>;

/** A clip (`GET /clips/:clipId`, lists). `startSeconds`: media time of its start within the broadcast's recording. */
export const clipViewSchema = z.object({
  id: z.uuid(),
  channelId: z.uuid(),
  username: z.string(),
  broadcastId: z.uuid(),
  title: z.string(),
  createdBy: z.uuid(),
  createdByName: z.string(),
  createdAt: z.string(),
  startSeconds: z.number().nonnegative(),
  durationSeconds: z.number().positive(),
  /** Whether it was cut from the live broadcast (else from the VOD). */
  fromLive: z.boolean(),
  videoUrl: z.string(),
  thumbnailUrl: z.string(),
});
export type ClipView = z.infer<typeof clipViewSchema>;

/** `{ items, nextCursor }` of `GET /channels/:username/clips` (newest first). */
export const clipListSchema = z.object({ items: z.array(clipViewSchema), nextCursor: z.string().nullable() });
export type ClipList = z.infer<typeof clipListSchema>;

/**
 * `GET /admin/storage` (admins): disk used by recordings and clips, the deployment's retention and budget, and the
 * retention job's last run.
 */
export const storageUsageSchema = z.object({
  usedBytes: z.number().int().nonnegative(),
  recordingsBytes: z.number().int().nonnegative(),
  clipsBytes: z.number().int().nonnegative(),
  recordings: z.number().int().nonnegative(),
  clips: z.number().int().nonnegative(),
  /** 0: kept forever. */
  retentionDays: z.number().nonnegative(),
  /** 0: no budget. */
  budgetBytes: z.number().int().nonnegative(),
});
export type StorageUsage = z.infer<typeof storageUsageSchema>;

/* ------------------------------------------------------------------------------------------------------------------ */
/* NATS replies to the ingest                                                                                         */
/* ------------------------------------------------------------------------------------------------------------------ */


/**
 * Reply of `ingest.broadcast-start`: `record` says whether the channel keeps this broadcast as a VOD
 * (`ChannelRecordingChanged`, default true). The ingest records every broadcast for rewind and live clips either
 * way; with `record` false it deletes the recording when the broadcast ends.
 */
export const broadcastStartReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), broadcastId: z.uuid(), record: z.boolean() }),
  ingestCommandFailureSchema,
]);
export type BroadcastStartReply = z.infer<typeof broadcastStartReplySchema>;

/** Reply of `ingest.broadcast-recorded`: the global position of `BroadcastRecorded` (null when already recorded). */
export const broadcastRecordedReplySchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), position: z.string().nullable() }),
  ingestCommandFailureSchema,
]);
export type BroadcastRecordedReply = z.infer<typeof broadcastRecordedReplySchema>;

/* ------------------------------------------------------------------------------------------------------------------ */
/* command-api replies                                                                                                */
/* ------------------------------------------------------------------------------------------------------------------ */

/** Reply of `PUT /me/recording`: the setting now, and the global position of its event (read-your-writes). */
export const recordingSettingReplySchema = z.object({ enabled: z.boolean(), position: z.string() });
export type RecordingSettingReply = z.infer<typeof recordingSettingReplySchema>;

/** Reply of `DELETE /videos/:broadcastId`: the position of `BroadcastRecordingDeleted` and the bytes freed in storage. */
export const deleteRecordingReplySchema = z.object({ ok: z.literal(true), position: z.string(), bytesFreed: z.number().int().nonnegative() });
export type DeleteRecordingReply = z.infer<typeof deleteRecordingReplySchema>;

/** Reply of `DELETE /clips/:clipId`: the position of `ClipDeleted`. */
export const deleteClipReplySchema = z.object({ ok: z.literal(true), position: z.string() });
export type DeleteClipReply = z.infer<typeof deleteClipReplySchema>;

/** Reply of `POST /admin/retention/run` (admins): what one run of the retention job did. Bytes; ms. */
export const retentionRunSummarySchema = z.object({
  /** False when another command-api held the job's lock (nothing was done). */
  ran: z.boolean(),
  vodsDeleted: z.object({ retention: z.number().int().nonnegative(), disk_budget: z.number().int().nonnegative() }),
  clipsDeleted: z.number().int().nonnegative(),
  /** Files removed whose deletion was already recorded, recordings not kept, orphaned clip files. */
  leftoversDeleted: z.number().int().nonnegative(),
  bytesFreed: z.number().int().nonnegative(),
  usedBytes: z.number().int().nonnegative(),
  budgetBytes: z.number().int().nonnegative(),
  /** Recordings or clips that could not be handled (the next run retries them). */
  errors: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
});
export type RetentionRunSummary = z.infer<typeof retentionRunSummarySchema>;
