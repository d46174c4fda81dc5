/**
 * A channel's latency setting over HTTP (issue 10 item 2): the owner's command and the field every channel view
 * carries. The modes themselves are {@link latencyModeSchema} (hls.ts); the player's reading of them is in the web
 * app's Player (`low` → hls.js `lowLatencyMode` at the server's PART-HOLD-BACK, `smooth` → whole segments ≈ 3 target
 * durations behind the live edge).
 */
import { z } from './zod.js';
import { latencyModeSchema } from './hls.js';

/** Command-api path of the owner's latency setting: `PUT` with {@link setLatencyModeRequestSchema}. */
export const LATENCY_MODE_PATH = '/me/channel/latency-mode';

/** Body of `PUT /me/channel/latency-mode`: `{ latencyMode: 'low' | 'smooth' }`; other fields are refused (400). */
export const setLatencyModeRequestSchema = z.strictObject({ latencyMode: latencyModeSchema });
/** Body of `PUT /me/channel/latency-mode`. */
export type SetLatencyModeRequest = z.infer<typeof setLatencyModeRequestSchema>;

/**
 * The latency part of a channel: the reply of `PUT /me/channel/latency-mode` and a field of every
 * query-api channel view (`GET /channels`, `/channels/live`, `/channels/:username`). A channel that never chose a mode
 * reports `DEFAULT_LATENCY_MODE` (hls.ts).
 */
export const channelLatencySchema = z.object({ latencyMode: latencyModeSchema });
/** `{ latencyMode }`: see {@link channelLatencySchema}. */
export type ChannelLatency = z.infer<typeof channelLatencySchema>;
