/**
 * RTMP ingest ↔ encoder contract: why a publish (or a play) was refused, as the encoder sees it.
 *
 * The ingest answers a refused `publish` with an RTMP `onStatus` command of level `error` on the stream the client
 * created, then closes the connection (RTMP 1.0 spec §7.2.2.6 "publish": the server replies with `onStatus`;
 * the codes are Adobe's NetStream status codes, ActionScript 3 reference "NetStatusEvent.info"):
 * - `NetStream.Publish.BadName`: the stream name (our stream key) is not one this server accepts — unknown,
 *   malformed, wrong or rotated key, unknown application;
 * - `NetStream.Publish.Rejected`: the key may be fine but the publish is refused now — the channel is already live,
 *   the command side did not answer, the ingest is starting or stopping;
 * - `NetStream.Play.Failed`: RTMP playback is not offered to the public (viewers use HLS).
 *
 * ffmpeg (libavformat/rtmpproto.c, `handle_invoke_status`) prints only the `description` of an error-level
 * onStatus ("Server error: <description>"), OBS logs the code; so every description starts with the code:
 * `"<code>: <reason in words>"`. Browser-safe: zod only.
 */
import { z } from './zod.js';

/** The RTMP `onStatus` codes the ingest sends with level `error`. */
export const rtmpErrorStatusCodeSchema = z.enum(['NetStream.Publish.BadName', 'NetStream.Publish.Rejected', 'NetStream.Play.Failed']);
/** One of {@link rtmpErrorStatusCodeSchema}. */
export type RtmpErrorStatusCode = z.infer<typeof rtmpErrorStatusCodeSchema>;

/**
 * Why the ingest refused an RTMP publish or play. The first four are the command side's `ingest.authorize-publish`
 * rejection reasons (docs/contracts.md; unchanged); the others are decided by the ingest itself. The last three
 * refuse an input whose media the packager cannot carry (./stream-health.ts `inputRefusalReasonSchema`); they are
 * sent after `NetStream.Publish.Start`, as soon as the encoder's onMetaData or first media packets show it.
 */
export const ingestRefusalReasonSchema = z.enum([
  'malformed_key',
  'unknown_channel',
  'invalid_key',
  'already_live',
  'unknown_app',
  'not_ready',
  'shutting_down',
  'command_side_unavailable',
  'duplicate_publish',
  'internal_error',
  'playback_not_offered',
  'no_video',
  'unsupported_video_codec',
  'unsupported_audio_codec',
]);
/** One of {@link ingestRefusalReasonSchema}. */
export type IngestRefusalReason = z.infer<typeof ingestRefusalReasonSchema>;

/** The `onStatus` an encoder receives for a refusal: `level` is always `error`. */
export interface RtmpRefusalStatus {
  level: 'error';
  code: RtmpErrorStatusCode;
  /** `"<code>: <reason in words>"` (see the module comment for why the code is repeated). */
  description: string;
}

const TEXTS: Record<IngestRefusalReason, { code: RtmpErrorStatusCode; text: string }> = {
  malformed_key: { code: 'NetStream.Publish.BadName', text: 'the stream key is malformed; copy it again from the dashboard' },
  unknown_channel: { code: 'NetStream.Publish.BadName', text: 'no channel has this stream key' },
  invalid_key: {
    code: 'NetStream.Publish.BadName',
    text: 'the stream key is wrong or was rotated; copy the current key from the dashboard',
  },
  already_live: { code: 'NetStream.Publish.Rejected', text: 'the channel is already live (another encoder is publishing)' },
  unknown_app: { code: 'NetStream.Publish.BadName', text: 'unknown application; publish to rtmp://<host>/live/<stream key>' },
  not_ready: { code: 'NetStream.Publish.Rejected', text: 'the ingest is starting; try again in a few seconds' },
  shutting_down: { code: 'NetStream.Publish.Rejected', text: 'the ingest is restarting; try again in a few seconds' },
  command_side_unavailable: {
    code: 'NetStream.Publish.Rejected',
    text: 'the stream key could not be checked (service unavailable); try again in a few seconds',
  },
  duplicate_publish: { code: 'NetStream.Publish.Rejected', text: 'only one publish or play per connection' },
  internal_error: { code: 'NetStream.Publish.Rejected', text: 'internal ingest error; try again' },
  playback_not_offered: { code: 'NetStream.Play.Failed', text: 'RTMP playback is not offered; watch the channel over HLS' },
  no_video: { code: 'NetStream.Publish.Rejected', text: 'the stream has no video; send H.264 video (with AAC audio)' },
  unsupported_video_codec: {
    code: 'NetStream.Publish.Rejected',
    text: 'unsupported video codec; send H.264 (in OBS: Settings → Output → Video Encoder x264 or a hardware H.264 encoder)',
  },
  unsupported_audio_codec: {
    code: 'NetStream.Publish.Rejected',
    text: 'unsupported audio codec; send AAC audio (in OBS: the default AAC audio encoder)',
  },
};

/**
 * The `onStatus` the ingest sends an encoder for `reason`.
 * @example rtmpRefusalStatus('invalid_key').description
 *   // 'NetStream.Publish.BadName: the stream key is wrong or was rotated; copy the current key from the dashboard'
 */
export function rtmpRefusalStatus(reason: IngestRefusalReason): RtmpRefusalStatus {
  const { code, text } = TEXTS[reason];
  return { level: 'error', code, description: `${code}: ${text}` };
}

/**
 * Default ingest ports (docs/contracts.md "Processes and ports"): RTMP on 1935, the protocol's registered port, and
 * RTMP over TLS (`rtmps://`) on 1936 (issue 10 item 6). The web shows `rtmp://<host>:<port>/live` to streamers when
 * PUBLIC_RTMP_URL is unset; the RTMPS URL it shows is command-api's `StreamKeyReply.rtmpsUrl`.
 */
export const INGEST_DEFAULT_PORTS = { rtmp: 1935, rtmps: 1936 } as const;

/** The owner's stream-key reply (`GET /me/stream-key`, `POST /me/stream-key/rotate` on command-api). */
export const streamKeyReplySchema = z.object({
  /** Secret: the stream name OBS publishes with. */
  streamKey: z.string(),
  /** `rtmp://<host>:<port>/live` (RTMP_PUBLIC_URL when set). */
  rtmpUrl: z.string(),
  /**
   * `rtmps://<host>:<port>/live` (RTMPS_PUBLIC_URL when set); null when RTMPS is off (command-api has neither
   * RTMPS_PUBLIC_URL nor INGEST_TLS_CERT_FILE), so the web hides it; absent from command-api builds before issue 10.
   */
  rtmpsUrl: z.string().nullable().optional(),
  issuedAt: z.string(),
});
/** See {@link streamKeyReplySchema}. */
export type StreamKeyReply = z.infer<typeof streamKeyReplySchema>;
