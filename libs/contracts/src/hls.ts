/**
 * HLS delivery from the ingest's origin (issue 10): the URL grammar players and the web app use, and the latency
 * modes a channel can choose. Browser-safe: zod only.
 *
 * Under `<INGEST public base>/hls/<username>/`:
 * - `index.m3u8` — the multivariant playlist (RFC 8216bis §4.4.6): one `EXT-X-STREAM-INF` per rendition;
 * - `<rendition>.m3u8` — a rendition's LL-HLS media playlist (blocking reload with `_HLS_msn`/`_HLS_part`);
 * - `<rendition>-init.mp4` — its init segment (`EXT-X-MAP`);
 * - `<rendition>-<msn>.m4s` — a whole media segment; `<rendition>-<msn>.<part>.m4s` — a partial segment;
 * - `thumbnail.jpg` — the channel's latest picture (refreshed every ≈ 15 s while live).
 */
import { z } from './zod.js';

/** File name of the multivariant playlist. */
export const HLS_MULTIVARIANT_PLAYLIST = 'index.m3u8';
/** File name of the channel thumbnail. */
export const HLS_THUMBNAIL_FILE = 'thumbnail.jpg';
/** A rendition name: `source`, `720p`, `480p`, … */
export const renditionNameSchema = z.string().regex(/^[a-z0-9]{1,16}$/);

/** Path of a channel's HLS directory, relative to the ingest's public base URL: `/hls/<username>`. */
export function hlsChannelPath(username: string): string {
  return `/hls/${encodeURIComponent(username)}`;
}

/**
 * Latency mode of a channel: `low` = LL-HLS at the live edge (parts, ≈ 1 s glass-to-glass; the default),
 * `smooth` = a larger buffer behind the live edge for viewers on bad networks (whole segments, ≈ 3 target durations).
 */
export const latencyModeSchema = z.enum(['low', 'smooth']);
/** One of {@link latencyModeSchema}. */
export type LatencyMode = z.infer<typeof latencyModeSchema>;
/** The latency mode of a channel that never chose one. */
export const DEFAULT_LATENCY_MODE: LatencyMode = 'low';
