/**
 * The seam between the packager (ffmpeg → fragmented MP4 → parts; ./packager*.ts) and the in-memory live media store
 * that writes the LL-HLS playlists and answers HTTP (./store.ts, ./origin.ts). Internal to the ingest app; the URL
 * grammar players see is in `@eventcast/contracts` (hls.ts).
 *
 * Flow for one channel: `store.open(username)` → for each rendition `sink.rendition(descriptor)` → `init(initSegment)`
 * once per packager run → `part(...)` every ≈ 200 ms → `end()` when the broadcast ends. A second `init` on the same
 * rendition (packager restarted, encoder reconnected) starts a new segment after an `EXT-X-DISCONTINUITY` with the
 * new `EXT-X-MAP`; media sequence numbers keep growing (RFC 8216bis §6.2.2).
 */

/** What players are told about one rendition (multivariant playlist `EXT-X-STREAM-INF`, RFC 8216bis §4.4.6.2). */
export interface RenditionDescriptor {
  /** URL-safe name, `^[a-z0-9]{1,16}$`: `source` for the passthrough (or the re-encoded source), `720p`, `480p`, … */
  name: string;
  /** RFC 6381 codecs of the fMP4 tracks, e.g. `avc1.64002a,mp4a.40.2` (from the init segment's `avcC`/`esds`). */
  codecs: string;
  /** Coded picture size in pixels; null when unknown. */
  width: number | null;
  height: number | null;
  /** Frames per second; null when unknown. */
  frameRate: number | null;
  /** Announced peak bits per second (`BANDWIDTH`); the store may replace it with the measured peak of its segments. */
  bandwidth: number;
  /** True when the platform encodes this rendition (a ladder step or the keyframe-fixing re-encode). */
  transcoded: boolean;
}

/** One partial segment: one or more `moof`+`mdat` fragments written by ffmpeg, in decode order. */
export interface MediaPart {
  /** The fragment bytes, top-level boxes only (`moof`, `mdat`; `styp`/`sidx`/`prft` allowed). */
  data: Buffer;
  /** Media duration in seconds, from the video track's sample durations ÷ its `mdhd` timescale. */
  durationSeconds: number;
  /** True when the first video sample is a sync sample (a keyframe): `INDEPENDENT=YES`, and a segment may start here. */
  independent: boolean;
  /** Wall-clock time of the part's first sample, ms since the epoch (`EXT-X-PROGRAM-DATE-TIME`). */
  programDateTimeMs: number;
}

/** The store side of one rendition. */
export interface RenditionSink {
  /** A (new) init segment (`ftyp`+`moov`). The second and later calls mean a discontinuity. */
  init(initSegment: Buffer, descriptor: RenditionDescriptor): void;
  /**
   * Appends a part to the open segment. The store closes the open segment and starts a new one at an independent
   * part once the open segment is at least the minimum segment duration long; segments therefore end on keyframes.
   */
  part(part: MediaPart): void;
}

/** The store side of one live channel. */
export interface ChannelMediaSink {
  /** The sink of a rendition (created on first use; the same object on later calls with the same name). */
  rendition(name: string): RenditionSink;
  /** The broadcast ended: closes the open segments and adds `EXT-X-ENDLIST` to every media playlist. */
  end(): void;
}

/** The live media store as the packager sees it. */
export interface LiveMediaSink {
  /** Opens (or, on a reconnect within the grace period, reopens) the channel `username`. */
  open(username: string): ChannelMediaSink;
  /** Forgets the channel after its playlists have been readable for a while (the ended broadcast's tail). */
  close(username: string, afterMs: number): void;
}

/** A keyframe picture source for the thumbnailer: the init segment and the latest independent part of a rendition. */
export interface KeyframeSource {
  /** Null when the channel is not live or no independent part exists yet. `at` is when that part arrived (ms). */
  latestKeyframe(username: string): { initSegment: Buffer; part: Buffer; at: number } | null;
}

/** The current thumbnail of a channel, as the HTTP origin serves it (`/hls/<username>/thumbnail.jpg`). */
export interface ThumbnailSource {
  /** JPEG bytes and when they were made (ms); null when none. */
  thumbnail(username: string): { jpeg: Buffer; at: number } | null;
}
