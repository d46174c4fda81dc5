/**
 * The playlists of a recording (issue 11; URL and key grammar: `@eventcast/contracts` vod.ts), rendered from the
 * per-segment facts the recorder keeps in memory (./recorder.ts) — never from the segment bytes:
 *
 * - media playlist `<rendition>.m3u8` (RFC 8216bis §4.4): `EXT-X-VERSION:6` (EXT-X-MAP in a playlist without
 *   EXT-X-I-FRAMES-ONLY, §4.4.4.5 / §7), `EXT-X-TARGETDURATION` ≥ every EXTINF rounded to the nearest integer
 *   (§4.4.3.1), `EXT-X-PLAYLIST-TYPE:EVENT` while the broadcast is live (segments are only appended: the DVR window)
 *   or `VOD` + `EXT-X-ENDLIST` once it ended (§4.4.3.5, §4.4.3.4), `EXT-X-INDEPENDENT-SEGMENTS` only when every
 *   segment starts with a keyframe (§4.4.2.1), `EXT-X-MAP` at the start and at every new init generation (§4.4.4.5),
 *   `EXT-X-DISCONTINUITY` where the live store had one (a packager restart, a reconnect) and where segments are
 *   missing (a write dropped or failed: media time and timestamps jump there, §4.4.4.3), and
 *   `EXT-X-PROGRAM-DATE-TIME` on every segment (§4.4.4.6);
 * - multivariant playlist `index.m3u8` (§4.4.6.2): one `EXT-X-STREAM-INF` per rendition, highest BANDWIDTH first,
 *   BANDWIDTH = the peak segment bit rate of the recording, AVERAGE-BANDWIDTH = its average, CODECS, RESOLUTION,
 *   FRAME-RATE from the live store's rendition descriptor;
 * - the recording's timeline (`TimelineRun[]` of contracts): a run per stretch between discontinuities.
 *
 * EXTINF values are whole milliseconds (`durationMs`), so the timeline's offsets (sums of EXTINF in ms) are exactly
 * what a player computes from the playlist.
 */
import { vodInitFile, vodMediaPlaylistFile, vodSegmentFile, type RecordedRendition, type TimelineRun } from '@eventcast/contracts';

/** What a recording keeps of one stored media segment (a few numbers: ≈ 100 bytes per segment). */
export interface RecordedSegment {
  /** Media sequence number in the live store (URL `<r>-<msn>.m4s`). */
  msn: number;
  /** Init generation of its EXT-X-MAP (URL `<r>-i<gen>.mp4`). */
  gen: number;
  /** Media duration, whole milliseconds (EXTINF). */
  durationMs: number;
  /** EXT-X-PROGRAM-DATE-TIME of its first sample, ms since the epoch. */
  programDateTimeMs: number;
  /** Size in bytes. */
  bytes: number;
  /** The live store put an EXT-X-DISCONTINUITY before it. */
  discontinuity: boolean;
  /** Its first sample is a keyframe. */
  independent: boolean;
  /** The short start-up segment of a run (left out of the peak bit rate, as in the live store). */
  startup: boolean;
}

/** Whether `s` starts a new run: a store discontinuity, a new init generation or a missing segment before it. */
function breaksBefore(prev: RecordedSegment | undefined, s: RecordedSegment): boolean {
  return prev !== undefined && (s.discontinuity || s.gen !== prev.gen || s.msn !== prev.msn + 1);
}

/**
 * A media playlist built segment by segment (see the module comment): {@link MediaPlaylistBuilder.add} appends one
 * segment's lines, so rewriting the EVENT playlist of a long recording after each segment costs a string
 * concatenation, not a render of every segment. `targetDurationSeconds` is a floor (the live store's target duration,
 * so an EVENT playlist's target never changes, §6.2.1); the value written is at least every rounded EXTINF.
 */
export class MediaPlaylistBuilder {
  private body = '';
  private prev: RecordedSegment | undefined;
  private target: number;
  private independent = true;
  /** Segments added. */
  count = 0;

  constructor(
    readonly rendition: string,
    targetDurationSeconds: number,
  ) {
    this.target = Math.max(1, Math.ceil(targetDurationSeconds));
  }

  /** Appends segment `s` (after the previous one, in media sequence order). */
  add(s: RecordedSegment): void {
    const lines: string[] = [];
    const prev = this.prev;
    if (breaksBefore(prev, s)) lines.push('#EXT-X-DISCONTINUITY');
    if (!prev || prev.gen !== s.gen) lines.push(`#EXT-X-MAP:URI="${vodInitFile(this.rendition, s.gen)}"`);
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(s.programDateTimeMs).toISOString()}`, `#EXTINF:${(s.durationMs / 1000).toFixed(3)},`, vodSegmentFile(this.rendition, s.msn));
    this.body += `${lines.join('\n')}\n`;
    this.target = Math.max(this.target, Math.round(s.durationMs / 1000));
    this.independent &&= s.independent;
    this.prev = s;
    this.count++;
  }

  /** The playlist text: EVENT while `ended` is false, VOD + EXT-X-ENDLIST once true. */
  render(ended: boolean): string {
    const head = ['#EXTM3U', '#EXT-X-VERSION:6', `#EXT-X-TARGETDURATION:${this.target}`, '#EXT-X-MEDIA-SEQUENCE:0', `#EXT-X-PLAYLIST-TYPE:${ended ? 'VOD' : 'EVENT'}`];
    if (this.count > 0 && this.independent) head.push('#EXT-X-INDEPENDENT-SEGMENTS');
    return `${head.join('\n')}\n${this.body}${ended ? '#EXT-X-ENDLIST\n' : ''}`;
  }
}

/**
 * Renders a media playlist of `segments` (stored segments in media sequence order) at once
 * ({@link MediaPlaylistBuilder}).
 */
export function renderVodMediaPlaylist(rendition: string, segments: readonly RecordedSegment[], o: { ended: boolean; targetDurationSeconds: number }): string {
  const b = new MediaPlaylistBuilder(rendition, o.targetDurationSeconds);
  for (const s of segments) b.add(s);
  return b.render(o.ended);
}

/**
 * The timeline of a rendition's stored segments: a new run at every break (see {@link renderVodMediaPlaylist});
 * `offsetMs` = sum of the EXTINF before the run, `programDateTimeMs` = the run's first segment's, `durationMs` = the
 * sum of the run's EXTINF. At most 10,000 runs (`timelineSchema`): later breaks are merged into the last run.
 */
export function recordingTimeline(segments: readonly RecordedSegment[]): TimelineRun[] {
  const runs: TimelineRun[] = [];
  let offset = 0;
  let prev: RecordedSegment | undefined;
  for (const s of segments) {
    const last = runs.at(-1);
    if (!last || (breaksBefore(prev, s) && runs.length < 10_000)) {
      runs.push({ offsetMs: offset, programDateTimeMs: Math.max(0, Math.round(s.programDateTimeMs)), durationMs: s.durationMs });
    } else {
      last.durationMs += s.durationMs;
    }
    offset += s.durationMs;
    prev = s;
  }
  return runs;
}

/**
 * Peak and average bit rate (bits/s) and bytes of a rendition's stored segments. Peak: the highest segment bit rate,
 * start-up segments left out unless there is nothing else; average: all bits over all media time. Zero when empty.
 */
export function measureSegments(segments: readonly RecordedSegment[]): { peak: number; average: number; bytes: number; durationMs: number } {
  let peak = 0;
  let startupPeak = 0;
  let bytes = 0;
  let ms = 0;
  for (const s of segments) {
    bytes += s.bytes;
    ms += s.durationMs;
    if (s.durationMs <= 0) continue;
    const rate = (s.bytes * 8 * 1000) / s.durationMs;
    if (s.startup) startupPeak = Math.max(startupPeak, rate);
    else peak = Math.max(peak, rate);
  }
  return { peak: Math.ceil(peak || startupPeak), average: ms > 0 ? Math.ceil((bytes * 8 * 1000) / ms) : 0, bytes, durationMs: ms };
}

/** Renders `index.m3u8` from the recorded renditions (see the module comment). @param rows at least one. */
export function renderVodMultivariantPlaylist(rows: readonly Pick<RecordedRendition, 'name' | 'codecs' | 'width' | 'height' | 'frameRate' | 'bandwidth' | 'averageBandwidth'>[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:6'];
  for (const r of [...rows].sort((a, b) => b.bandwidth - a.bandwidth)) {
    const attrs = [`BANDWIDTH=${Math.max(1, Math.round(r.bandwidth))}`];
    if (r.averageBandwidth > 0) attrs.push(`AVERAGE-BANDWIDTH=${Math.round(r.averageBandwidth)}`);
    if (r.codecs) attrs.push(`CODECS="${r.codecs.replace(/"/g, '')}"`);
    if (r.width && r.height) attrs.push(`RESOLUTION=${r.width}x${r.height}`);
    if (r.frameRate) attrs.push(`FRAME-RATE=${r.frameRate.toFixed(3)}`);
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, vodMediaPlaylistFile(r.name));
  }
  return `${lines.join('\n')}\n`;
}
