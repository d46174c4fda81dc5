/**
 * Test support: a fragmented MP4 made by ffmpeg, split into the init segment and parts (`moof`+`mdat` pairs) with
 * each part's video duration and whether it starts with a sync sample — what the packager hands the live media store.
 * Box layout: ISO/IEC 14496-12 (§4.2 box header; §8.8.7 tfhd, §8.8.8 trun, §8.8.12 tfdt; sample flags §8.8.3.1,
 * `sample_is_non_sync_sample` = bit 16).
 */
import { execFile, spawn } from 'node:child_process';
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
 * Splits a growing fragmented MP4 byte stream (ffmpeg writing to a pipe): `push` chunks; `onInit` gets `ftyp`+`moov`,
 * `onPart` each `moof`+`mdat` pair as soon as its last byte arrived. Program date time = arrival time of the part
 * minus its duration (the first sample's wall clock, as a live packager stamps it), or `clock` when given.
 */
export class Fmp4Splitter {
  private pending: Buffer = Buffer.alloc(0);
  private track: { trackId: number; timescale: number } | null = null;
  private readonly defaults = { duration: 0, flags: 0 };
  private moof: Buffer | null = null;
  private mediaTime = 0;
  private head: Buffer[] = [];

  constructor(
    private readonly onInit: (init: Buffer) => void,
    private readonly onPart: (part: MediaPart) => void,
    private readonly clock: ((mediaTimeSeconds: number, durationSeconds: number) => number) | null = null,
  ) {}

  /** Adds bytes. @throws {Error} on malformed boxes. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let at = 0;
    while (this.pending.length - at >= 8) {
      let size = this.pending.readUInt32BE(at);
      if (size === 1) {
        if (this.pending.length - at < 16) break;
        size = Number(this.pending.readBigUInt64BE(at + 8));
      }
      if (size < 8) throw new Error('bad box size');
      if (this.pending.length - at < size) break;
      this.box(Buffer.from(this.pending.subarray(at, at + size)));
      at += size;
    }
    this.pending = this.pending.subarray(at);
  }

  private box(b: Buffer): void {
    const type = b.toString('latin1', 4, 8);
    if (!this.track) {
      this.head.push(b);
      if (type !== 'moov') return;
      const init = Buffer.concat(this.head);
      const moov = boxes(b)[0];
      if (!moov) throw new Error('no moov');
      this.track = videoTrack(b, moov);
      const mvex = child(b, moov, 'mvex');
      for (const trex of mvex ? boxes(b, mvex.start + 8, mvex.start + mvex.size).filter((x) => x.type === 'trex') : []) {
        if (b.readUInt32BE(trex.start + 12) === this.track.trackId) {
          this.defaults.duration = b.readUInt32BE(trex.start + 20);
          this.defaults.flags = b.readUInt32BE(trex.start + 28);
        }
      }
      this.onInit(init);
      return;
    }
    if (type === 'moof') {
      this.moof = b;
      return;
    }
    if (type !== 'mdat' || !this.moof) return;
    const moofBox = boxes(this.moof)[0];
    const v = moofBox ? moofVideo(this.moof, moofBox, this.track.trackId, this.defaults) : null;
    const durationSeconds = v ? v.duration / this.track.timescale : 0;
    const pdt = this.clock ? this.clock(this.mediaTime, durationSeconds) : Date.now() - Math.round(durationSeconds * 1000);
    this.onPart({ data: Buffer.concat([this.moof, b]), durationSeconds, independent: v?.sync ?? false, programDateTimeMs: pdt });
    this.mediaTime += durationSeconds;
    this.moof = null;
  }
}

/**
 * Splits a whole fragmented MP4 (`ftyp`+`moov`, then `moof`+`mdat` pairs) into the init segment and parts.
 * Program date times are `t0Ms` + the media time of each part.
 */
export function splitFmp4(buf: Buffer, t0Ms = Date.now()): SplitFmp4 {
  const out: SplitFmp4 = { init: Buffer.alloc(0), parts: [] };
  const s = new Fmp4Splitter(
    (init) => (out.init = init),
    (p) => out.parts.push(p),
    (t) => t0Ms + Math.round(t * 1000),
  );
  s.push(buf);
  if (out.init.length === 0) throw new Error('no moov');
  return out;
}

/**
 * Starts ffmpeg encoding lavfi testsrc2 + sine in real time (`-re`) into fragmented MP4 on its stdout (H.264
 * ultrafast/zerolatency, `gop` frames per keyframe, fragments of `fragSeconds`), fed to `splitter`.
 * @returns a stop function.
 */
export function liveFmp4(splitter: Fmp4Splitter, o: { seconds: number; fps: number; gop: number; fragSeconds: number; size?: string }): { stop: () => void; exited: Promise<number | null> } {
  const ff = spawn('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-re', '-f', 'lavfi', '-i', `testsrc2=size=${o.size ?? '320x180'}:rate=${o.fps}`,
    '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', String(o.seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', String(o.gop), '-keyint_min', String(o.gop), '-sc_threshold', '0',
    '-c:a', 'aac', '-ac', '2', '-b:a', '64k',
    '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof', '-frag_duration', String(Math.round(o.fragSeconds * 1e6)), '-flush_packets', '1',
    'pipe:1',
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  ff.stdout.on('data', (c: Buffer) => splitter.push(c));
  const exited = new Promise<number | null>((resolve) => ff.once('exit', (code) => resolve(code)));
  return { stop: () => void (ff.exitCode === null && ff.kill('SIGKILL')), exited };
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
