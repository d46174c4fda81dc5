/**
 * The channel views of query-api (docs/contracts.md "query-api"): `GET /channels/live` and `GET /channels` →
 * {@link ChannelList}, `GET /channels/:username` → {@link ChannelView}. Read by the web app (directory cards, channel
 * page, dashboard). Browser-safe: zod only.
 */
import { z } from './zod.js';
import { latencyModeSchema } from './hls.js';

/**
 * Media information probed from an ingest session (announced by the encoder's onMetaData or measured by ffprobe).
 * Units: pixels, frames/s, kbit/s, Hz, channels. Also the `media` of the `BroadcastStarted` event (@eventcast/events
 * re-exports this schema).
 */
export const mediaInfoSchema = z.object({
  videoCodec: z.string().nullable(),
  audioCodec: z.string().nullable(),
  width: z.number().int().positive().nullable(),
  height: z.number().int().positive().nullable(),
  frameRate: z.number().positive().nullable(),
  videoBitrateKbps: z.number().nonnegative().nullable(),
  audioSampleRate: z.number().int().positive().nullable(),
  audioChannels: z.number().int().positive().nullable(),
});
/** One {@link mediaInfoSchema}. */
export type MediaInfo = z.infer<typeof mediaInfoSchema>;

/**
 * The broadcast on air: `startedAt` ISO-8601; `media` null while the broadcast's own read model row has not caught
 * up with the channel's (and in the web's optimistic patch after a pushed `BroadcastStarted`).
 */
export const broadcastSummarySchema = z.object({
  id: z.string(),
  startedAt: z.string(),
  media: mediaInfoSchema.nullable(),
});
/** One {@link broadcastSummarySchema}. */
export type BroadcastSummary = z.infer<typeof broadcastSummarySchema>;

/**
 * A channel: public info, live state and, when live, its broadcast and URLs on the ingest's HLS origin
 * (URL grammar in ./hls.ts).
 * - `title`/`category`: query-api sends `''` when unset; null is accepted for views patched from pushed events.
 * - `playbackUrl`: the multivariant playlist `<HLS base>/hls/<username>/index.m3u8`; null when offline.
 * - `thumbnailUrl`: `<HLS base>/hls/<username>/thumbnail.jpg?t=<period>`, the channel's latest picture (remade
 *   every ≈ 15 s from a keyframe while live); null when offline. The `t` query is a cache-buster that changes once
 *   per period, so an `<img>` already on a page shows a newer picture when the view is re-fetched; the origin ignores
 *   it. The picture may not exist yet in the first seconds of a broadcast (404): show a fallback on load error.
 */
export const channelViewSchema = z.object({
  id: z.string(),
  username: z.string(),
  title: z.string().nullable(),
  category: z.string().nullable(),
  live: z.boolean(),
  broadcast: broadcastSummarySchema.nullable(),
  playbackUrl: z.string().nullable(),
  thumbnailUrl: z.string().nullable(),
  /** The channel's latency mode (latency.ts, issue 10 item 2). */
  latencyMode: latencyModeSchema,
  /**
   * The live broadcast's recording, `<HLS base>/vod/<broadcastId>/index.m3u8` (an EVENT playlist growing from the
   * broadcast's start: rewind while live, ./vod.ts); null when offline.
   */
  dvrPlaybackUrl: z.string().nullable(),
  /** Whether the channel keeps its broadcasts as VODs (`PUT /me/recording`; default true). */
  recordingEnabled: z.boolean(),
});
/** One {@link channelViewSchema}. */
export type ChannelView = z.infer<typeof channelViewSchema>;

/** `{ channels: ChannelView[] }` of `GET /channels/live` and `GET /channels`. */
export const channelListSchema = z.object({ channels: z.array(channelViewSchema) });
/** One {@link channelListSchema}. */
export type ChannelList = z.infer<typeof channelListSchema>;
