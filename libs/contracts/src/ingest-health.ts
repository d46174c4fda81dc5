/**
 * The ingest's live health for platform admins (issue 4 part 6, docs/contracts.md "Admin pages"):
 * - `GET /admin/health` of an ingest node (ingest → query-api): {@link ingestHealthReportSchema}, one
 *   {@link ingestChannelHealthSchema} per live channel of the node, with the publisher's measured input
 *   ({@link inputHealthSchema}) and the LL-HLS packager's state ({@link packagerStatusSchema});
 * - `GET /admin/broadcasts` of query-api (query-api → web): {@link adminBroadcastsSchema}, the live broadcasts of the
 *   read model joined by channel id with what the nodes reported, and every node's outcome.
 *
 * The ingest produces these shapes (apps/ingest: stream-health.ts `StreamHealthMeter.snapshot`, live/packager.ts
 * `LivePackager.status` and `parseProgressBlock`, channels.ts `ChannelManager.health`); query-api validates every
 * node's answer with {@link ingestHealthReportSchema} and forwards it unchanged.
 *
 * Units: kbit/s (1000 bit/s) of payload, frames per second, seconds, counts; times ISO-8601. Rates and intervals are
 * null while not measurable yet (too few packets). Browser-safe: zod only.
 */
import { z } from './zod.js';
import { mediaInfoSchema } from './channel-view.js';

const uuid = z.uuid();
const iso = z.iso.datetime({ offset: true });
const count = z.number().int().min(0);
const nonNegative = z.number().min(0);

/**
 * The publisher's input as the ingest measures it from the RTMP media packets (FLV tag type 8 audio / 9 video; video
 * frame type 1 = keyframe; RTMP timestamps in ms) of the current publisher session.
 */
export const inputHealthSchema = z.object({
  /** Seconds of wall-clock time the rates are over: 5 once the session is 5 s old, shorter before. */
  windowSeconds: nonNegative,
  /** Audio + video payload bytes that arrived in the window × 8 / window, kbit/s (RTMP chunk headers not counted); null before 1 s of data. */
  bitrateKbps: nonNegative.nullable(),
  /** The video part of `bitrateKbps`, kbit/s. */
  videoBitrateKbps: nonNegative.nullable(),
  /** The audio part of `bitrateKbps`, kbit/s. */
  audioBitrateKbps: nonNegative.nullable(),
  /** Video frames in the window ÷ the span of their timestamps (media time), frames/s; null below 2 frames. */
  fps: nonNegative.nullable(),
  /** Mean of the last 5 keyframe-to-keyframe timestamp distances, seconds; null before the second keyframe. */
  keyframeIntervalSeconds: nonNegative.nullable(),
  /** Largest of those distances, seconds. */
  maxKeyframeIntervalSeconds: nonNegative.nullable(),
  /** Wall-clock seconds since the last keyframe arrived; null before the first. */
  secondsSinceKeyframe: z.number().nullable(),
  /** Video frames (keyframes and inter frames) since the session started. */
  videoFrames: count,
  /** Keyframes since the session started. */
  keyframes: count,
  /** Wall-clock seconds since the last media packet arrived; null before the first. */
  secondsSinceLastPacket: z.number().nullable(),
});
/** See {@link inputHealthSchema}. */
export type InputHealth = z.infer<typeof inputHealthSchema>;

/**
 * The packaging ffmpeg's last complete `-progress pipe:1 -stats_period 1` block (https://ffmpeg.org/ffmpeg.html,
 * `-progress`); a value ffmpeg reports as `N/A` (or not at all) is null.
 */
export const packagerProgressSchema = z.object({
  /** Frames written by this ffmpeg run (first output), `frame=`. */
  frames: count.nullable(),
  /** ffmpeg's output frames per second, `fps=`. */
  fps: nonNegative.nullable(),
  /** Frames ffmpeg dropped in this run, `drop_frames=` (0 while every rendition is copied, unless it falls behind). */
  dropFrames: count.nullable(),
  /** Frames ffmpeg duplicated in this run, `dup_frames=`. */
  dupFrames: count.nullable(),
  /** Processing speed relative to real time, `speed=` without the `x` (1 = keeping up, below 1 = falling behind). */
  speed: nonNegative.nullable(),
  /** Output time, seconds (`out_time_us` ÷ 10⁶, ms precision; not bounded: ffmpeg may report a negative time at the start). */
  outTimeSeconds: z.number().nullable(),
  /** When the ingest read the block (ISO-8601). */
  at: iso,
});
/** See {@link packagerProgressSchema}. */
export type PackagerProgress = z.infer<typeof packagerProgressSchema>;

/** `passthrough`: the source video is copied; `reencode`: it is encoded with 1-s keyframes (the keyframe fix). */
export const packagerModeSchema = z.enum(['passthrough', 'reencode']);
/** One of {@link packagerModeSchema}. */
export type PackagerMode = z.infer<typeof packagerModeSchema>;

/** The LL-HLS packager of one channel (`channels[].packager` of `GET /admin/health`). */
export const packagerStatusSchema = z.object({
  /** An ffmpeg process is alive. */
  running: z.boolean(),
  /** Restarts of the current restart budget (reset after a minute of stable running and on a reconnect). */
  restarts: count,
  /** The running ffmpeg's last progress block; null before the first and after it exits. */
  progress: packagerProgressSchema.nullable(),
  /** `reencode` when the node re-encodes because the keyframe interval exceeded `INGEST_KEYFRAME_FIX_SECONDS`. */
  mode: packagerModeSchema,
  /**
   * In words for the streamer (with the OBS setting to change): why the source is re-encoded; in passthrough null, or
   * why the needed re-encode did not happen (the node already re-encodes `INGEST_MAX_REENCODES` channels).
   */
  modeReason: z.string().nullable(),
  /** Renditions of the current (or last) ffmpeg run, in output order (e.g. `source`, `720p`). */
  renditions: z.array(z.string()),
  /** Parts handed to the live media store over the broadcast. */
  parts: count,
  /** fMP4 fragments that were malformed or could not be parsed over the broadcast (each restarted ffmpeg). */
  malformed: count,
  /** Restarts after a failure over the whole broadcast (unlike `restarts`, never reset). */
  restartsTotal: count,
  /** Frames ffmpeg dropped over all runs of the broadcast (the runs' `drop_frames` summed). */
  droppedFramesTotal: count,
});
/** See {@link packagerStatusSchema}. */
export type PackagerStatus = z.infer<typeof packagerStatusSchema>;

/** One live channel of an ingest node (`channels[]` of `GET /admin/health`). */
export const ingestChannelHealthSchema = z.object({
  channelId: uuid,
  username: z.string().min(1),
  /** The broadcast the command side recorded; null until `ingest.broadcast-start` succeeded. */
  broadcastId: uuid.nullable(),
  /** Publisher connected now (false during the reconnect grace period). */
  connected: z.boolean(),
  /** When the current publisher session was accepted (ISO-8601); null when unknown. */
  publishingSince: iso.nullable(),
  /** What the encoder announced or ffprobe found at the start; null until the broadcast start was sent. */
  media: mediaInfoSchema.nullable(),
  /** Measured from the RTMP packets; null when the session could not be measured (no packet callback). */
  input: inputHealthSchema.nullable(),
  packager: packagerStatusSchema,
});
/** See {@link ingestChannelHealthSchema}. */
export type IngestChannelHealth = z.infer<typeof ingestChannelHealthSchema>;

/** Body of an ingest node's `GET /admin/health` (platform admins' bearer JWT): its live channels by username. */
export const ingestHealthReportSchema = z.object({
  /** `INGEST_ID` of the node. */
  ingestId: z.string().min(1),
  /** When the report was made (ISO-8601). */
  at: iso,
  channels: z.array(ingestChannelHealthSchema),
});
/** See {@link ingestHealthReportSchema}. */
export type IngestHealthReport = z.infer<typeof ingestHealthReportSchema>;

/**
 * What the node reporting a broadcast's channel said about it (`broadcasts[].health` of `GET /admin/broadcasts`):
 * the channel's `connected`, `publishingSince`, `input` and `packager` as in {@link ingestChannelHealthSchema}, plus
 * the reporting node's `INGEST_ID`.
 */
export const broadcastIngestHealthSchema = ingestChannelHealthSchema
  .pick({ connected: true, publishingSince: true, input: true, packager: true })
  .extend({ ingestId: z.string() });
/** See {@link broadcastIngestHealthSchema}. */
export type BroadcastIngestHealth = z.infer<typeof broadcastIngestHealthSchema>;

/** One live broadcast of `GET /admin/broadcasts`, from the read model, with its channel's ingest health. */
export const adminBroadcastSchema = z.object({
  broadcastId: uuid,
  channelId: uuid,
  username: z.string(),
  /** The channel's title and category (`''` when unset). */
  title: z.string(),
  category: z.string(),
  /** When the broadcast started (ISO-8601). */
  startedAt: iso,
  /** Announced/probed at the start. */
  media: mediaInfoSchema.nullable(),
  /** Null when no reachable ingest node reports the channel (the reason in `healthNote`). */
  health: broadcastIngestHealthSchema.nullable(),
  /** Why `health` is null (e.g. `ingest unavailable: <url>: <error>`); null when it is not. */
  healthNote: z.string().nullable(),
});
/** See {@link adminBroadcastSchema}. */
export type AdminBroadcast = z.infer<typeof adminBroadcastSchema>;

/** The outcome of asking one ingest node (`ingest[]` of `GET /admin/broadcasts`). */
export const ingestNodeStatusSchema = z.object({
  /** The node's base URL (one of query-api's `INGEST_URL`). */
  url: z.string(),
  /** The node's `INGEST_ID`; null when it gave no valid report. */
  ingestId: z.string().nullable(),
  /** It answered HTTP at all (false: connection refused, timeout). */
  reachable: z.boolean(),
  /**
   * Why it could not be read (e.g. `HTTP 403: …`, `no answer within 2000 ms`, `unexpected answer (<first schema
   * issue>)`); null when its report was read.
   */
  error: z.string().nullable(),
});
/** See {@link ingestNodeStatusSchema}. */
export type IngestNodeStatus = z.infer<typeof ingestNodeStatusSchema>;

/** Reply of query-api's `GET /admin/broadcasts` (platform admins). */
export const adminBroadcastsSchema = z.object({
  /** When the reply was made (ISO-8601). */
  at: iso,
  /** Newest first. */
  broadcasts: z.array(adminBroadcastSchema),
  ingest: z.array(ingestNodeStatusSchema),
});
/** See {@link adminBroadcastsSchema}. */
export type AdminBroadcasts = z.infer<typeof adminBroadcastsSchema>;
