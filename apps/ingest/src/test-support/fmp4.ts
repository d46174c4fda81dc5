/**
 * Test support: a fragmented MP4 made by ffmpeg, split into the init segment and parts (`moof`+`mdat` pairs) with
 * each part's video duration and whether it starts with a sync sample — what the packager hands the live media store.
 * Box layout: ISO/IEC 14496-12 (§4.2 box header; §8.8.7 tfhd, §8.8.8 trun, §8.8.12 tfdt; sample flags §8.8.3.1,
 * `sample_is_non_sync_sample` = bit 16).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { MediaPart } from '../live/media-sink.js';

const run = promisify(execFile);

/** A top-level (or child) box: type, start offset and size in `buf`. */
interface Box {
  type: string;
  start: number;
  size: number;
  header: number;
}

/** Lists the boxes in `buf[from, to)`. @throws {Error} on a truncated box. */
export function boxes(buf: Buffer, from = 0, to = buf.length): Box[] {
  const out: Box[] = [];
  let at = from;
  while (at + 8 <= to) {
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let header = 8;
    if (size === 1) {
      size = Number(buf.readBigUInt64BE(at + 8));
      header = 16;
    } else if (size === 0) size = to - at;
    if (size < header || at + size > to) throw new Error(`truncated box ${type}`);
    out.push({ type, start: at, size, header });
    at += size;
  }
  return out;
}

function child(buf: Buffer, parent: Box, type: string): Box | undefined {
  return boxes(buf, parent.start + parent.header, parent.start + parent.size).find((b) => b.type === type);
}

/** Video track id and timescale from `moov` (the first `trak` whose handler is `vide`). */
function videoTrack(buf: Buffer, moov: Box): { trackId: number; timescale: number } {
  for (const trak of boxes(buf, moov.start + 8, moov.start + moov.size).filter((b) => b.type === 'trak')) {
    const tkhd = child(buf, trak, 'tkhd');
    const mdia = child(buf, trak, 'mdia');
    const hdlr = mdia && child(buf, mdia, 'hdlr');
    const mdhd = mdia && child(buf, mdia, 'mdhd');
    if (!tkhd || !hdlr || !mdhd) continue;
    if (buf.toString('latin1', hdlr.start + 16, hdlr.start + 20) !== 'vide') continue;
    const tkhdV = buf[tkhd.start + 8] ?? 0;
    const mdhdV = buf[mdhd.start + 8] ?? 0;
    const trackId = buf.readUInt32BE(tkhd.start + 8 + 4 + (tkhdV === 1 ? 16 : 8));
    const timescale = buf.readUInt32BE(mdhd.start + 8 + 4 + (mdhdV === 1 ? 16 : 8));
    return { trackId, timescale };
  }
  throw new Error('no video track');
}

/** Video duration (in timescale units) and first-sample sync flag of one `moof`. */
function moofVideo(buf: Buffer, moof: Box, trackId: number, defaults: { duration: number; flags: number }): { duration: number; sync: boolean } | null {
  for (const traf of boxes(buf, moof.start + 8, moof.start + moof.size).filter((b) => b.type === 'traf')) {
    const tfhd = child(buf, traf, 'tfhd');
    if (!tfhd || buf.readUInt32BE(tfhd.start + 12) !== trackId) continue;
    const tf = buf.readUInt32BE(tfhd.start + 8) & 0xffffff;
    let p = tfhd.start + 16;
    if (tf & 0x1) p += 8;
    if (tf & 0x2) p += 4;
    let defDuration = defaults.duration;
    let defFlags = defaults.flags;
    if (tf & 0x8) {
      defDuration = buf.readUInt32BE(p);
      p += 4;
    }
    if (tf & 0x10) p += 4;
    if (tf & 0x20) defFlags = buf.readUInt32BE(p);
    let duration = 0;
    let sync: boolean | null = null;
    for (const trun of boxes(buf, traf.start + 8, traf.start + traf.size).filter((b) => b.type === 'trun')) {
      const f = buf.readUInt32BE(trun.start + 8) & 0xffffff;
      const count = buf.readUInt32BE(trun.start + 12);
      let q = trun.start + 16;
      if (f & 0x1) q += 4;
      let firstFlags: number | null = null;
      if (f & 0x4) {
        firstFlags = buf.readUInt32BE(q);
        q += 4;
      }
      for (let i = 0; i < count; i++) {
        let d = defDuration;
        let flags = i === 0 && firstFlags !== null ? firstFlags : defFlags;
        if (f & 0x100) {
          d = buf.readUInt32BE(q);
          q += 4;
        }
        if (f & 0x200) q += 4;
        if (f & 0x400) {
          const sf = buf.readUInt32BE(q);
          if (!(i === 0 && firstFlags !== null)) flags = sf;
          q += 4;
        }
        if (f & 0x800) q += 4;
        duration += d;
        if (sync === null) sync = (flags & 0x10000) === 0;
      }
    }
    return { duration, sync: sync ?? false };
  }
  return null;
}

/** A fragmented MP4 split for the store. */
export interface SplitFmp4 {
  init: Buffer;
  parts: MediaPart[];
}

/**
 * Splits a fragmented MP4 (`ftyp`+`moov`, then `moof`+`mdat` pairs) into the init segment and parts.
 * Program date times are `t0Ms` + the media time of each part.
 */
export function splitFmp4(buf: Buffer, t0Ms = Date.now()): SplitFmp4 {
  const top = boxes(buf);
  const moov = top.find((b) => b.type === 'moov');
  if (!moov) throw new Error('no moov');
  const { trackId, timescale } = videoTrack(buf, moov);
  // trex defaults (mvex) — ffmpeg writes them; durations may rely on them.
  const defaults = { duration: 0, flags: 0 };
  const mvex = child(buf, moov, 'mvex');
  for (const trex of mvex ? boxes(buf, mvex.start + 8, mvex.start + mvex.size).filter((b) => b.type === 'trex') : []) {
    if (buf.readUInt32BE(trex.start + 12) === trackId) {
      defaults.duration = buf.readUInt32BE(trex.start + 20);
      defaults.flags = buf.readUInt32BE(trex.start + 28);
    }
  }
  const init = buf.subarray(0, moov.start + moov.size);
  const parts: MediaPart[] = [];
  let mediaTime = 0;
  for (let i = 0; i < top.length; i++) {
    const moof = top[i];
    if (moof?.type !== 'moof') continue;
    const mdat = top[i + 1];
    if (mdat?.type !== 'mdat') throw new Error('moof without mdat');
    const v = moofVideo(buf, moof, trackId, defaults);
    const durationSeconds = v ? v.duration / timescale : 0;
    parts.push({
      data: Buffer.from(buf.subarray(moof.start, mdat.start + mdat.size)),
      durationSeconds,
      independent: v?.sync ?? false,
      programDateTimeMs: t0Ms + Math.round(mediaTime * 1000),
    });
    mediaTime += durationSeconds;
  }
  return { init: Buffer.from(init), parts };
}

/**
 * Encodes `seconds` of lavfi testsrc + sine into fragmented MP4 at `file` (H.264 ultrafast, `gop` frames per
 * keyframe, AAC 48 kHz stereo), fragments of `fragSeconds`. @returns the file's bytes.
 */
export async function makeFmp4(file: string, o: { seconds: number; fps: number; gop: number; fragSeconds: number; size?: string }): Promise<Buffer> {
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc=size=${o.size ?? '320x180'}:rate=${o.fps}`,
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(o.seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', String(o.gop), '-keyint_min', String(o.gop), '-sc_threshold', '0', '-bf', '0',
    '-c:a', 'aac', '-ac', '2', '-b:a', '64k',
    '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof', '-frag_duration', String(Math.round(o.fragSeconds * 1e6)),
    file,
  ]);
  return readFile(file);
}
