/**
 * Stream health for the streamer (issue 10 item 5): what the ingest measures of a live publisher's input, the
 * warnings derived from it, the NATS request that records a sample (`ingest.health-sample`, ingest → command side),
 * the refusal record of an unsupported input (`ingest.input-refused`) and the owner's read model
 * (`GET /analytics/channels/:username/health`, query-api → web).
 *
 * Units: kbit/s (1000 bit/s), frames per second, seconds, pixels. Codec names come from the fixed sets below, never
 * from the encoder's text. Warnings are computed in one place, {@link streamHealthWarnings}, with the thresholds of
 * the issue. Browser-safe: zod only.
 */
import { z } from './zod.js';

const uuid = z.uuid();
const iso = z.iso.datetime({ offset: true });

/** Default milliseconds between two health samples of a live channel (`INGEST_HEALTH_SAMPLE_MS`). */
export const DEFAULT_HEALTH_SAMPLE_MS = 10_000;

/**
 * Video codecs a sample may name (ffmpeg names; FLV codec ids 2–7, Enhanced-RTMP FourCCs). Anything else is `other`.
 * Only `h264` can be packaged (fMP4 for browsers, see {@link PACKAGEABLE_VIDEO_CODECS}).
 */
export const healthVideoCodecSchema = z.enum(['h264', 'hevc', 'av1', 'vp9', 'vp8', 'vp6', 'vp6a', 'h263', 'screenvideo', 'screenvideo2', 'other']);
/** One of {@link healthVideoCodecSchema}. */
export type HealthVideoCodec = z.infer<typeof healthVideoCodecSchema>;
/** Audio codecs a sample may name (FLV sound formats, Enhanced-RTMP FourCCs). Anything else is `other`. */
export const healthAudioCodecSchema = z.enum(['aac', 'mp3', 'opus', 'speex', 'nellymoser', 'pcm', 'pcm_alaw', 'pcm_mulaw', 'adpcm', 'ac3', 'eac3', 'flac', 'other']);
/** One of {@link healthAudioCodecSchema}. */
export type HealthAudioCodec = z.infer<typeof healthAudioCodecSchema>;

/** Video codecs the packager carries into fMP4 for browsers (MSE in Chromium, Safari, Firefox). */
export const PACKAGEABLE_VIDEO_CODECS: readonly HealthVideoCodec[] = ['h264'];
/** Audio codecs the packager carries (AAC-LC in fMP4). A publish without audio is accepted (warning `audio_missing`). */
export const PACKAGEABLE_AUDIO_CODECS: readonly HealthAudioCodec[] = ['aac'];

/**
 * Maps a codec name (ffmpeg style, any case, e.g. from `MediaInfo` or ffprobe) to the fixed set; null stays null,
 * an unknown name becomes `other`.
 */
export function healthVideoCodec(name: string | null | undefined): HealthVideoCodec | null {
  if (name === null || name === undefined || name === '') return null;
  const n = name.toLowerCase();
  const alias: Record<string, HealthVideoCodec> = { avc: 'h264', avc1: 'h264', h265: 'hevc', flv1: 'h263' };
  const hit = healthVideoCodecSchema.safeParse(alias[n] ?? n);
  return hit.success ? hit.data : 'other';
}

/** As {@link healthVideoCodec}, for audio. */
export function healthAudioCodec(name: string | null | undefined): HealthAudioCodec | null {
  if (name === null || name === undefined || name === '') return null;
  const n = name.toLowerCase();
  const alias: Record<string, HealthAudioCodec> = { mp4a: 'aac', mp3float: 'mp3', 'ac-3': 'ac3', 'ec-3': 'eac3' };
  const hit = healthAudioCodecSchema.safeParse(alias[n] ?? n);
  return hit.success ? hit.data : 'other';
}

/** Keyframe intervals above this many seconds get `keyframe_interval_high` (plus {@link KEYFRAME_TOLERANCE_SECONDS}). */
export const MAX_KEYFRAME_INTERVAL_SECONDS = 2;
/** Timestamp jitter allowed on the keyframe interval (a 2-s GOP at 29.97 frames/s measures 2.002 s). */
export const KEYFRAME_TOLERANCE_SECONDS = 0.1;
/** `bitrate_low` when the measured video bitrate is below this fraction of the announced one (30 % under it). */
export const BITRATE_LOW_FRACTION = 0.7;
/** `frame_rate_low` when fps is below the announced rate by more than max(this fraction, {@link FRAME_RATE_TOLERANCE_FPS}). */
export const FRAME_RATE_TOLERANCE_FRACTION = 0.05;
/** See {@link FRAME_RATE_TOLERANCE_FRACTION}: the smallest tolerance in frames per second (measurement jitter). */
export const FRAME_RATE_TOLERANCE_FPS = 1;

/** The warnings a sample can carry. */
export const healthWarningCodeSchema = z.enum(['keyframe_interval_high', 'bitrate_low', 'frame_rate_low', 'audio_missing']);
/** One of {@link healthWarningCodeSchema}. */
export type HealthWarningCode = z.infer<typeof healthWarningCodeSchema>;

const finite = (max: number) => z.number().min(0).max(max);

/**
 * One warning with the numbers it was decided on: `measured` (seconds, kbit/s or frames/s; null for
 * `audio_missing`) and `limit` (the threshold it crossed in the same unit; null when there is none).
 */
export const healthWarningSchema = z.object({
  code: healthWarningCodeSchema,
  measured: finite(1e7).nullable(),
  limit: finite(1e7).nullable(),
});
/** One entry of {@link streamHealthSampleSchema}'s `warnings`. */
export type HealthWarning = z.infer<typeof healthWarningSchema>;

/** The measurements {@link streamHealthWarnings} reads (a subset of {@link StreamHealthMeasures}). */
export interface HealthWarningInput {
  videoBitrateKbps: number | null;
  audioBitrateKbps: number | null;
  fps: number | null;
  maxKeyframeIntervalSeconds: number | null;
  /** What the encoder announced in onMetaData (`videodatarate`, `framerate`); null when it did not. */
  announcedVideoBitrateKbps: number | null;
  announcedFrameRate: number | null;
  /** The audio codec announced or seen; null when the publish has no audio track. */
  audioCodec: string | null;
  /** Seconds of input the rates are over; audio is judged missing only over at least 2 s. */
  windowSeconds: number;
}

/**
 * The warnings of one measurement, in a fixed order (keyframe, bitrate, frame rate, audio). Rules (issue 10 item 5):
 * - `keyframe_interval_high`: the largest recent keyframe interval > {@link MAX_KEYFRAME_INTERVAL_SECONDS} +
 *   {@link KEYFRAME_TOLERANCE_SECONDS} (the largest, because x264's scene cuts only shorten intervals: the largest is
 *   the configured keyframe interval);
 * - `bitrate_low`: measured video bitrate < {@link BITRATE_LOW_FRACTION} × the announced `videodatarate`;
 * - `frame_rate_low`: measured fps < announced `framerate` − max(5 %, 1 frame/s);
 * - `audio_missing`: no audio track, or no audio bytes over a window of ≥ 2 s.
 * A null measurement (too few packets yet) raises nothing.
 */
export function streamHealthWarnings(m: HealthWarningInput): HealthWarning[] {
  const out: HealthWarning[] = [];
  const keyLimit = MAX_KEYFRAME_INTERVAL_SECONDS + KEYFRAME_TOLERANCE_SECONDS;
  if (m.maxKeyframeIntervalSeconds !== null && m.maxKeyframeIntervalSeconds > keyLimit) {
    out.push({ code: 'keyframe_interval_high', measured: m.maxKeyframeIntervalSeconds, limit: MAX_KEYFRAME_INTERVAL_SECONDS });
  }
  if (m.announcedVideoBitrateKbps !== null && m.announcedVideoBitrateKbps > 0 && m.videoBitrateKbps !== null) {
    const limit = Math.round(m.announcedVideoBitrateKbps * BITRATE_LOW_FRACTION * 10) / 10;
    if (m.videoBitrateKbps < limit) out.push({ code: 'bitrate_low', measured: m.videoBitrateKbps, limit });
  }
  if (m.announcedFrameRate !== null && m.announcedFrameRate > 0 && m.fps !== null) {
    const tolerance = Math.max(m.announcedFrameRate * FRAME_RATE_TOLERANCE_FRACTION, FRAME_RATE_TOLERANCE_FPS);
    if (m.fps < m.announcedFrameRate - tolerance) out.push({ code: 'frame_rate_low', measured: m.fps, limit: m.announcedFrameRate });
  }
  if (m.audioCodec === null || (m.windowSeconds >= 2 && (m.audioBitrateKbps === null || m.audioBitrateKbps === 0))) {
    out.push({ code: 'audio_missing', measured: null, limit: null });
  }
  return out;
}

/** How to fix a too-long keyframe interval at the source (OBS Studio 29+). */
export const KEYFRAME_FIX_HINT = 'In OBS: Settings → Output → Output Mode "Advanced" → Streaming → Keyframe Interval 1–2 s (0 = auto is too long).';

/** The warning in words for the streamer, with its numbers (e.g. "Keyframe interval is 4 s (at most 2 s)…"). */
export function healthWarningText(w: HealthWarning): string {
  const n = (v: number | null) => (v === null ? '?' : String(Math.round(v * 10) / 10));
  switch (w.code) {
    case 'keyframe_interval_high':
      return `Keyframe interval is ${n(w.measured)} s; keep it at most ${n(w.limit)} s, or viewers get more delay and the platform must re-encode your video. ${KEYFRAME_FIX_HINT}`;
    case 'bitrate_low':
      return `Bitrate is ${n(w.measured)} kbit/s, more than 30 % under the announced rate (expected at least ${n(w.limit)} kbit/s): your upload may be congested, or the encoder is overloaded.`;
    case 'frame_rate_low':
      return `Frame rate is ${n(w.measured)} fps, below the announced ${n(w.limit)} fps: the encoder or the computer is overloaded (lower the resolution or the encoder preset).`;
    case 'audio_missing':
      return 'No audio is arriving: check the audio source and the track selected for streaming.';
  }
}

/** Packager state in a sample: drops are frames the packager dropped, restarts its ffmpeg restarts, since the publish. */
export const healthPackagerSchema = z.object({
  running: z.boolean(),
  drops: z.number().int().min(0).max(1e12),
  restarts: z.number().int().min(0).max(1e6),
  /** `passthrough` copies the encoder's video, `reencode` re-encodes it (e.g. keyframe interval too long); null = unknown. */
  mode: z.enum(['passthrough', 'reencode']).nullable(),
});
/** See {@link healthPackagerSchema}. */
export type HealthPackager = z.infer<typeof healthPackagerSchema>;

/** The measured numbers of a sample (also the owner read model's `live` part). */
export const streamHealthMeasuresSchema = z.object({
  /** When the ingest took the sample (ISO-8601). */
  sampledAt: iso,
  /** Sampling period, seconds. */
  intervalSeconds: z.number().int().min(1).max(3600),
  /** Seconds of input the rates are measured over. */
  windowSeconds: finite(3600),
  bitrateKbps: finite(1e6).nullable(),
  videoBitrateKbps: finite(1e6).nullable(),
  audioBitrateKbps: finite(1e6).nullable(),
  fps: finite(1000).nullable(),
  /** Mean and largest of the last keyframe intervals, seconds. */
  keyframeIntervalSeconds: finite(3600).nullable(),
  maxKeyframeIntervalSeconds: finite(3600).nullable(),
  width: z.number().int().min(1).max(16384).nullable(),
  height: z.number().int().min(1).max(16384).nullable(),
  videoCodec: healthVideoCodecSchema.nullable(),
  audioCodec: healthAudioCodecSchema.nullable(),
  announcedVideoBitrateKbps: finite(1e6).nullable(),
  announcedFrameRate: finite(1000).nullable(),
  packager: healthPackagerSchema,
  warnings: z.array(healthWarningSchema).max(healthWarningCodeSchema.options.length),
});
/** See {@link streamHealthMeasuresSchema}. */
export type StreamHealthMeasures = z.infer<typeof streamHealthMeasuresSchema>;

/** NATS `ingest.health-sample` request body (ingest → command side): one sample of a live broadcast. */
export const healthSampleRequestSchema = streamHealthMeasuresSchema.extend({ channelId: uuid, broadcastId: uuid });
/** See {@link healthSampleRequestSchema}. */
export type HealthSampleRequest = z.infer<typeof healthSampleRequestSchema>;

/**
 * Why an input was refused after the key was accepted (`PublishInputRefused` event, `ingest.input-refused`): the
 * ingest's refusal reasons about the media (see `ingestRefusalReasonSchema` of ./ingest.ts).
 */
export const inputRefusalReasonSchema = z.enum(['no_video', 'unsupported_video_codec', 'unsupported_audio_codec']);
/** One of {@link inputRefusalReasonSchema}. */
export type InputRefusalReason = z.infer<typeof inputRefusalReasonSchema>;

/** NATS `ingest.input-refused` request body (ingest → command side). */
export const inputRefusedRequestSchema = z.object({
  channelId: uuid,
  reason: inputRefusalReasonSchema,
  videoCodec: healthVideoCodecSchema.nullable(),
  audioCodec: healthAudioCodecSchema.nullable(),
  /** When the ingest refused (ISO-8601). */
  refusedAt: iso,
});
/** See {@link inputRefusedRequestSchema}. */
export type InputRefusedRequest = z.infer<typeof inputRefusedRequestSchema>;

/** Reply of `ingest.health-sample` and `ingest.input-refused`: recorded = events appended (0 for a duplicate). */
export type HealthCommandReply = { ok: true; recorded: number } | { ok: false; code: string; message: string };

/** The last refused publish of a channel, as its owner reads it. */
export const lastPublishRefusalSchema = z.object({
  reason: inputRefusalReasonSchema,
  videoCodec: healthVideoCodecSchema.nullable(),
  audioCodec: healthAudioCodecSchema.nullable(),
  refusedAt: iso,
});
/** See {@link lastPublishRefusalSchema}. */
export type LastPublishRefusal = z.infer<typeof lastPublishRefusalSchema>;

/**
 * `GET /analytics/channels/:username/health` (owner or platform admin): the latest sample of the live broadcast
 * (null when the channel is not live or no sample arrived yet) and the last refused publish (null when none).
 */
export const channelHealthResponseSchema = z.object({
  channelId: uuid,
  username: z.string(),
  live: z.boolean(),
  broadcastId: uuid.nullable(),
  latest: streamHealthMeasuresSchema.nullable(),
  lastRefusal: lastPublishRefusalSchema.nullable(),
});
/** See {@link channelHealthResponseSchema}. */
export type ChannelHealthResponse = z.infer<typeof channelHealthResponseSchema>;

/** How often the dashboard re-reads the owner's health (ms): the realtime edge relays no owner-only events. */
export const HEALTH_POLL_MS = 5000;

/** Most samples one `GET /analytics/broadcasts/:id/health` returns (the oldest are left out beyond it). */
export const MAX_HEALTH_SERIES_SAMPLES = 5000;

/** `GET /analytics/broadcasts/:id/health` (owner or platform admin): a broadcast's samples, oldest first. */
export const broadcastHealthSeriesSchema = z.object({
  broadcastId: uuid,
  channelId: uuid,
  samples: z.array(streamHealthMeasuresSchema),
});
/** See {@link broadcastHealthSeriesSchema}. */
export type BroadcastHealthSeries = z.infer<typeof broadcastHealthSeriesSchema>;
