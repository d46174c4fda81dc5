/**
 * HLS delivery from the ingest's origin (issue 10): the URL grammar players and the web app use, and the latency
 * modes a channel can choose. Browser-safe: zod only.
 *
 * Under `<INGEST public base>/hls/<username>/`:
 * - `index.m3u8` — the multivariant playlist (RFC 8216bis §4.4.6): one `EXT-X-STREAM-INF` per rendition;
 * - `<rendition>.m3u8` — a rendition's LL-HLS media playlist (blocking reload with `_HLS_msn`/`_HLS_part`);
 * - `<rendition>-<epoch>-i<gen>.mp4` — its init segment (`EXT-X-MAP`), `gen` counting packager restarts (a new
 *   generation follows an `EXT-X-DISCONTINUITY`);
 * - `<rendition>-<epoch>-<msn>.m4s` — a whole media segment (`msn` = media sequence number);
 * - `<rendition>-<epoch>-p<n>.m4s` — a partial segment, `n` counting the rendition's parts (not restarting per segment,
 *   so the preload hint names the next part before the store knows whether it opens a new segment);
 * - `thumbnail.jpg` — the channel's latest picture (refreshed every ≈ 15 s while live).
 *
 * `epoch` (base 36, `[0-9a-z]{1,12}`) is fixed for one live session of the channel in the origin's memory, so the
 * immutable names of one broadcast never collide with the next broadcast's in a cache.
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

/** File name of a rendition's media playlist: `<rendition>.m3u8`. */
export function hlsMediaPlaylistFile(rendition: string): string {
  return `${rendition}.m3u8`;
}
/** File name of an init segment: `<rendition>-<epoch>-i<gen>.mp4`. */
export function hlsInitFile(rendition: string, epoch: string, gen: number): string {
  return `${rendition}-${epoch}-i${gen}.mp4`;
}
/** File name of a whole media segment: `<rendition>-<epoch>-<msn>.m4s`. */
export function hlsSegmentFile(rendition: string, epoch: string, msn: number): string {
  return `${rendition}-${epoch}-${msn}.m4s`;
}
/** File name of a partial segment: `<rendition>-<epoch>-p<n>.m4s`. */
export function hlsPartFile(rendition: string, epoch: string, n: number): string {
  return `${rendition}-${epoch}-p${n}.m4s`;
}

/** A file of a channel's HLS directory, as {@link parseHlsFileName} reads it. */
export type HlsFile =
  | { kind: 'multivariant' }
  | { kind: 'thumbnail' }
  | { kind: 'media-playlist'; rendition: string }
  | { kind: 'init'; rendition: string; epoch: string; gen: number }
  | { kind: 'segment'; rendition: string; epoch: string; msn: number }
  | { kind: 'part'; rendition: string; epoch: string; n: number };

const HLS_FILE_RE = /^([a-z0-9]{1,16})(?:\.m3u8|-([0-9a-z]{1,12})-(?:i(\d{1,9})\.mp4|(\d{1,15})\.m4s|p(\d{1,15})\.m4s))$/;

/**
 * Reads a file name of the grammar above. Numbers are decimal without sign, at most 15 digits (safe integers).
 * @returns null for any other name.
 */
export function parseHlsFileName(file: string): HlsFile | null {
  if (file === HLS_MULTIVARIANT_PLAYLIST) return { kind: 'multivariant' };
  if (file === HLS_THUMBNAIL_FILE) return { kind: 'thumbnail' };
  const m = HLS_FILE_RE.exec(file);
  if (!m) return null;
  const rendition = m[1] ?? '';
  const epoch = m[2];
  if (epoch === undefined) return { kind: 'media-playlist', rendition };
  if (m[3] !== undefined) return { kind: 'init', rendition, epoch, gen: Number(m[3]) };
  if (m[4] !== undefined) return { kind: 'segment', rendition, epoch, msn: Number(m[4]) };
  return { kind: 'part', rendition, epoch, n: Number(m[5]) };
}
