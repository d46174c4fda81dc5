/**
 * LL-HLS playlists of the live media store (./store.ts), written with npm `hls-parser` (0.16, `stringify.js`).
 *
 * Media playlist (RFC 8216bis-16 §4.4.3–4.4.5, Apple "Enabling Low-Latency HLS"):
 * - `EXT-X-VERSION:9`; `EXT-X-TARGETDURATION` fixed for the life of the playlist (the store force-cuts segments so
 *   every EXTINF rounds to at most it, §4.4.3.1);
 * - `EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,HOLD-BACK=<3 × target>,PART-HOLD-BACK=<3 × part target>` (§4.4.3.8:
 *   HOLD-BACK ≥ 3 × target duration; PART-HOLD-BACK ≥ 2 × part target, SHOULD ≥ 3 ×);
 * - `EXT-X-PART-INF:PART-TARGET=<the store's part target>` (§4.4.3.7; `HLS_PART_SECONDS` + one frame, ./store.ts
 *   `advertisedPartTarget`);
 * - per segment: `EXT-X-DISCONTINUITY` + `EXT-X-MAP` after a new init, `EXT-X-PROGRAM-DATE-TIME`, its `EXT-X-PART`s
 *   (with `INDEPENDENT=YES` where a part starts with a keyframe) while the store keeps them, then `EXTINF` + URI;
 * - the open segment: its parts and one `EXT-X-PRELOAD-HINT:TYPE=PART` naming the next part (§4.4.5.3); with no
 *   open segment (a start-up segment just closed, or after a packager restart before the new run's first part) that
 *   hint alone, after `EXT-X-DISCONTINUITY` + the new `EXT-X-MAP` in the restart case (so hls.js predicts the next
 *   segment's discontinuity sequence right, see `RenditionState.pendingSegment`);
 * - `EXT-X-RENDITION-REPORT` for every other rendition (§4.4.5.4); `EXT-X-ENDLIST` once the broadcast ended.
 * A player that ignores the LL-HLS tags sees a plain live playlist of whole segments (every tag it does not know is
 * ignored, §4.1), so the same URL serves both.
 *
 * `EXT-X-INDEPENDENT-SEGMENTS` (§4.4.2.1) in the media playlist and the multivariant one only while every segment
 * in the window(s) starts with a keyframe — not while a force-cut segment (./store.ts) is listed.
 *
 * Multivariant playlist (§4.4.6): `EXT-X-INDEPENDENT-SEGMENTS` (as above) and one
 * `EXT-X-STREAM-INF` per rendition, highest BANDWIDTH first, with BANDWIDTH = the measured peak segment bit rate of
 * the window (the announced one before the first segment), AVERAGE-BANDWIDTH, RESOLUTION, CODECS and FRAME-RATE.
 *
 * hls-parser writes every tag used here correctly; two notes from its source: it omits `EXT-X-MEDIA-SEQUENCE` and
 * `EXT-X-DISCONTINUITY-SEQUENCE` when they are 0 (the spec's default, so that is right), and it writes a segment
 * whose last part is a hint without `EXTINF`/URI (right for the open segment). No post-processing is needed.
 */
import HLS from 'hls-parser';
import { hlsMediaPlaylistFile } from '@eventcast/contracts';
import type { ChannelState, RenditionState, StoredPart, StoredSegment } from './store.js';

const { MediaPlaylist, MasterPlaylist, Segment, PartialSegment, MediaInitializationSection, RenditionReport, Variant } = HLS.types;

/** Rounds seconds to 5 decimals (keeps float noise such as 0.20000000000000004 out of the playlist). */
function sec(x: number): number {
  return Math.round(x * 1e5) / 1e5;
}

function partOf(r: RenditionState, p: StoredPart): InstanceType<typeof PartialSegment> {
  return new PartialSegment({ hint: false, uri: r.partUri(p.n), duration: sec(p.durationSeconds), independent: p.independent || undefined });
}

function segmentOf(r: RenditionState, s: StoredSegment, listParts: boolean): InstanceType<typeof Segment> {
  return new Segment({
    uri: r.segmentUri(s.msn),
    duration: sec(s.durationSeconds),
    discontinuity: s.discontinuity,
    mediaSequenceNumber: s.msn,
    discontinuitySequence: s.discontinuitySequence,
    map: new MediaInitializationSection({ hint: false, uri: r.initUri(s.gen) }),
    programDateTime: new Date(s.programDateTimeMs),
    parts: listParts && !s.partsDropped ? s.parts.map((p) => partOf(r, p)) : [],
  });
}

/**
 * Renders a rendition's media playlist (see the module comment).
 * @returns the playlist text, or null when the rendition has no init segment or no part yet (the origin answers 404
 *   or holds a blocking reload until then).
 */
export function renderMediaPlaylist(r: RenditionState): string | null {
  const o = r.channel.options;
  const open = r.open && r.open.parts.length > 0 ? r.open : null;
  const first = r.segments[0] ?? open;
  if (r.gen < 0 || !first) return null;
  const segments = r.segments.map((s) => segmentOf(r, s, true));
  if (open) {
    const seg = segmentOf(r, open, true);
    if (!r.ended) seg.parts.push(new PartialSegment({ hint: true, uri: r.partUri(r.nextPartN) }));
    segments.push(seg);
  } else if (segments.length > 0 && !r.ended) {
    // No open segment (a start-up segment just closed, or a packager restart before the new run's first part): the
    // next part's hint, after the discontinuity when there is one (see RenditionState.pendingSegment).
    const pending = r.pendingSegment();
    if (pending) {
      segments.push(new Segment({
        discontinuity: pending.discontinuity,
        mediaSequenceNumber: pending.msn,
        discontinuitySequence: pending.discontinuitySequence,
        map: pending.discontinuity ? new MediaInitializationSection({ hint: false, uri: r.initUri(pending.gen) }) : undefined,
        parts: [new PartialSegment({ hint: true, uri: r.partUri(r.nextPartN) })],
      }));
    }
  }
  const reports: InstanceType<typeof RenditionReport>[] = [];
  for (const other of r.channel.renditions.values()) {
    if (other === r) continue;
    const last = other.lastPart();
    if (last) reports.push(new RenditionReport({ uri: hlsMediaPlaylistFile(other.name), lastMSN: last.msn, lastPart: last.index }));
  }
  const playlist = new MediaPlaylist({
    version: 9,
    // Only while no force-cut segment (starting without a keyframe) is in the window (./store.ts).
    independentSegments: r.segmentsIndependent() || undefined,
    targetDuration: o.targetDurationSeconds,
    mediaSequenceBase: first.msn,
    // The first segment's own EXT-X-DISCONTINUITY (if any) counts on top of the base (§4.4.3.3).
    discontinuitySequenceBase: first.discontinuitySequence - (first.discontinuity ? 1 : 0),
    lowLatencyCompatibility: {
      canBlockReload: true,
      canSkipUntil: undefined as unknown as number,
      holdBack: sec(3 * o.targetDurationSeconds),
      partHoldBack: sec(3 * o.partTargetSeconds),
    },
    partTargetDuration: sec(o.partTargetSeconds),
    segments,
    renditionReports: reports,
    endlist: r.ended,
  });
  return HLS.stringify(playlist);
}

/**
 * Renders a channel's multivariant playlist (see the module comment).
 * @returns null when no rendition has an init segment yet.
 */
export function renderMultivariantPlaylist(ch: ChannelState): string | null {
  const rows = [...ch.renditions.values()]
    .filter((r) => r.gen >= 0)
    .map((r) => {
      const m = r.measuredBandwidth();
      return { r, bandwidth: m?.peak ?? r.descriptor.bandwidth, average: m?.average };
    })
    .sort((a, b) => b.bandwidth - a.bandwidth);
  if (rows.length === 0) return null;
  const variants = rows.map(({ r, bandwidth, average }) => {
    const d = r.descriptor;
    return new Variant({
      uri: hlsMediaPlaylistFile(r.name),
      bandwidth: Math.max(1, Math.round(bandwidth)),
      averageBandwidth: average !== undefined ? Math.round(average) : undefined,
      codecs: d.codecs || undefined,
      resolution: d.width && d.height ? { width: d.width, height: d.height } : undefined,
      frameRate: d.frameRate ?? undefined,
    });
  });
  const independentSegments = rows.every(({ r }) => r.segmentsIndependent()) || undefined;
  return HLS.stringify(new MasterPlaylist({ version: 9, independentSegments, variants }));
}
