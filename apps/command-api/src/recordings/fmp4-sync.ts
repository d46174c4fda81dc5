/**
 * Whether a fragmented-MP4 media segment starts with a sync sample (a keyframe) of its video track, read from the
 * boxes themselves (ISO/IEC 14496-12): the video track is the `trak` whose `hdlr` handler is `vide` (§8.4.3), with
 * its `tkhd` track_ID (§8.3.2) and the `trex` defaults (§8.8.3) of the init segment; in the media segment, the first
 * `moof` (§8.8.4) → that track's `traf` → `tfhd` (§8.8.7) and `trun` (§8.8.8): the first sample's flags are
 * `first_sample_flags` when present, else its own sample flags, else the `tfhd` default, else the `trex` default;
 * bit `sample_is_non_sync_sample` (0x00010000, §8.8.3.1) clear = a sync sample. Used for playlists without
 * EXT-X-INDEPENDENT-SEGMENTS (RFC 8216bis §4.4.2.1), where a segment may start between keyframes.
 */

interface Box {
  type: string;
  /** Offset of the payload (after the header). */
  start: number;
  end: number;
}

/** The child boxes of `buf[start, end)`; stops at a malformed header. */
function boxes(buf: Buffer, start: number, end: number): Box[] {
  const out: Box[] = [];
  let p = start;
  while (p + 8 <= end) {
    let size = buf.readUInt32BE(p);
    const type = buf.toString('latin1', p + 4, p + 8);
    let header = 8;
    if (size === 1) {
      if (p + 16 > end) break;
      size = Number(buf.readBigUInt64BE(p + 8));
      header = 16;
    } else if (size === 0) {
      size = end - p;
    }
    if (size < header || p + size > end) break;
    out.push({ type, start: p + header, end: p + size });
    p += size;
  }
  return out;
}

function child(buf: Buffer, parent: Box | { start: number; end: number }, type: string): Box | undefined {
  return boxes(buf, parent.start, parent.end).find((b) => b.type === type);
}

function children(buf: Buffer, parent: Box, type: string): Box[] {
  return boxes(buf, parent.start, parent.end).filter((b) => b.type === type);
}

/** The video track of an init segment: its id and `trex` default sample flags (0 when absent). Null: no video track. */
export function videoTrackOf(init: Buffer): { trackId: number; defaultFlags: number } | null {
  const moov = child(init, { start: 0, end: init.length }, 'moov');
  if (!moov) return null;
  let trackId: number | null = null;
  for (const trak of children(init, moov, 'trak')) {
    const hdlr = child(init, child(init, trak, 'mdia') ?? { start: 0, end: 0 }, 'hdlr');
    const tkhd = child(init, trak, 'tkhd');
    if (!hdlr || !tkhd || hdlr.start + 12 > hdlr.end) continue;
    if (init.toString('latin1', hdlr.start + 8, hdlr.start + 12) !== 'vide') continue;
    const version = init.readUInt8(tkhd.start);
    trackId = init.readUInt32BE(tkhd.start + (version === 1 ? 20 : 12));
    break;
  }
  if (trackId === null) return null;
  let defaultFlags = 0;
  const mvex = child(init, moov, 'mvex');
  for (const trex of mvex ? children(init, mvex, 'trex') : []) {
    if (trex.start + 24 <= trex.end && init.readUInt32BE(trex.start + 4) === trackId) defaultFlags = init.readUInt32BE(trex.start + 20);
  }
  return { trackId, defaultFlags };
}

/**
 * Whether `segment` starts with a sync sample of `track` (see the module comment).
 * @returns null when it cannot tell (no `moof`, no `traf` of that track, a truncated box).
 */
export function startsWithSyncSample(segment: Buffer, track: { trackId: number; defaultFlags: number }): boolean | null {
  const moof = child(segment, { start: 0, end: segment.length }, 'moof');
  if (!moof) return null;
  for (const traf of children(segment, moof, 'traf')) {
    const tfhd = child(segment, traf, 'tfhd');
    const trun = child(segment, traf, 'trun');
    if (!tfhd || !trun || tfhd.start + 8 > tfhd.end || segment.readUInt32BE(tfhd.start + 4) !== track.trackId) continue;
    const tfFlags = segment.readUInt32BE(tfhd.start) & 0xffffff;
    let p = tfhd.start + 8;
    if (tfFlags & 0x1) p += 8;
    if (tfFlags & 0x2) p += 4;
    if (tfFlags & 0x8) p += 4;
    if (tfFlags & 0x10) p += 4;
    let flags = track.defaultFlags;
    if (tfFlags & 0x20) {
      if (p + 4 > tfhd.end) return null;
      flags = segment.readUInt32BE(p);
    }
    const trFlags = segment.readUInt32BE(trun.start) & 0xffffff;
    const count = segment.readUInt32BE(trun.start + 4);
    if (count === 0) return null;
    let q = trun.start + 8;
    if (trFlags & 0x1) q += 4;
    if (trFlags & 0x4) {
      if (q + 4 > trun.end) return null;
      flags = segment.readUInt32BE(q);
    } else if (trFlags & 0x400) {
      q += (trFlags & 0x100 ? 4 : 0) + (trFlags & 0x200 ? 4 : 0);
      if (q + 4 > trun.end) return null;
      flags = segment.readUInt32BE(q);
    }
    return (flags & 0x10000) === 0;
  }
  return null;
}
