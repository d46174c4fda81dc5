/**
 * Fragmented MP4 (ISO/IEC 14496-12, "ISOBMFF") reading for the live packager: an incremental top-level box splitter
 * for ffmpeg's output pipe, the init segment's track descriptions (`moov`) and the timing of each fragment
 * (`moof`). Only what the packager needs; every length read from the stream is bounds-checked, so hostile or broken
 * input raises {@link Mp4FormatError} and never reads outside the buffer or buffers without limit.
 *
 * Box header (§4.2): `size` (32-bit big-endian, counting the header) + `type` (4 characters); `size` = 1 means a
 * 64-bit `largesize` follows the type; `size` = 0 means "to the end of the file", which a live pipe never has and is
 * refused. Full boxes (§4.2) add `version` (8 bits) + `flags` (24 bits).
 */

/** Raised for input that is not the fragmented MP4 expected (the packager restarts ffmpeg on it). */
export class Mp4FormatError extends Error {
  override readonly name = 'Mp4FormatError';
}

/** Largest top-level box accepted (bytes): a 200 ms fragment of even a 100 Mbit/s stream is ≈ 2.5 MB. */
export const MAX_BOX_BYTES = 64 * 1024 * 1024;

/** One top-level box: its 4-character type and its bytes, header included. */
export interface Mp4Box {
  type: string;
  data: Buffer;
}

const TYPE_RE = /^[\x20-\x7e]{4}$/;

/**
 * Reads the header of the box at `offset` of `buf` (within `end`).
 * @returns the box type, header length and total size, or null when fewer header bytes than needed are available.
 * @throws {Mp4FormatError} for a size of 0, a size smaller than the header, a size above `maxBytes` or a type that
 *   is not 4 printable ASCII characters.
 */
function readHeader(buf: Buffer, offset: number, end: number, maxBytes: number): { type: string; header: number; size: number } | null {
  if (end - offset < 8) return null;
  let size = buf.readUInt32BE(offset);
  const type = buf.toString('latin1', offset + 4, offset + 8);
  if (!TYPE_RE.test(type)) throw new Mp4FormatError(`invalid box type at byte ${offset}`);
  let header = 8;
  if (size === 1) {
    if (end - offset < 16) return null;
    const large = buf.readBigUInt64BE(offset + 8);
    if (large > BigInt(maxBytes)) throw new Mp4FormatError(`box '${type}' of ${large} bytes exceeds the limit of ${maxBytes}`);
    size = Number(large);
    header = 16;
  } else if (size === 0) {
    throw new Mp4FormatError(`box '${type}' with size 0 (to end of file) in a live stream`);
  }
  if (size < header) throw new Mp4FormatError(`box '${type}' size ${size} is smaller than its header`);
  if (size > maxBytes) throw new Mp4FormatError(`box '${type}' of ${size} bytes exceeds the limit of ${maxBytes}`);
  return { type, header, size };
}

/**
 * Splits a byte stream into top-level boxes as chunks arrive. Holds at most one incomplete box (≤ `maxBytes`).
 * After it has thrown, the splitter is unusable (the stream position is lost): make a new one.
 */
export class BoxSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Total size of the box being collected (0 = its header is not read yet). */
  private boxSize = 0;
  private failed = false;

  constructor(private readonly maxBytes = MAX_BOX_BYTES) {}

  /** Bytes held waiting for the rest of a box. */
  get pendingBytes(): number {
    return this.buffered;
  }

  /**
   * Adds `chunk` and returns the boxes it completes, in stream order.
   * @throws {Mp4FormatError} see {@link readHeader}.
   */
  push(chunk: Buffer): Mp4Box[] {
    if (this.failed) throw new Mp4FormatError('box splitter used after an error');
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Mp4Box[] = [];
    try {
      for (;;) {
        // The size of the box being collected is read once; until it is complete only the byte count is checked.
        if (this.boxSize === 0) {
          const head = this.peek(16);
          const h = readHeader(head, 0, head.length, this.maxBytes);
          if (!h) break;
          this.boxSize = h.size;
        }
        if (this.buffered < this.boxSize) break;
        const data = this.take(this.boxSize);
        this.boxSize = 0;
        out.push({ type: data.toString('latin1', 4, 8), data });
      }
    } catch (err) {
      this.failed = true;
      this.chunks = [];
      this.buffered = 0;
      throw err;
    }
    return out;
  }

  /** The first `n` buffered bytes (fewer if fewer are held), copying only as many chunks as needed. */
  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (!first) return Buffer.alloc(0);
    if (first.length >= n || this.chunks.length === 1) return first;
    const parts: Buffer[] = [];
    let got = 0;
    for (const c of this.chunks) {
      if (got >= n) break;
      parts.push(c);
      got += c.length;
    }
    return Buffer.concat(parts).subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks, this.buffered);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}

/** A child box inside a parent's payload: type and payload (header excluded). */
interface Child {
  type: string;
  body: Buffer;
}

/** The child boxes of `payload` (a container's content). @throws {Mp4FormatError} when a child overruns it. */
function children(payload: Buffer): Child[] {
  const out: Child[] = [];
  let off = 0;
  while (off < payload.length) {
    const h = readHeader(payload, off, payload.length, MAX_BOX_BYTES);
    if (!h) throw new Mp4FormatError('truncated child box header');
    if (off + h.size > payload.length) throw new Mp4FormatError(`child box '${h.type}' overruns its parent`);
    out.push({ type: h.type, body: payload.subarray(off + h.header, off + h.size) });
    off += h.size;
  }
  return out;
}

function child(payload: Buffer, type: string): Buffer | null {
  return children(payload).find((c) => c.type === type)?.body ?? null;
}

/** Walks `path` (e.g. `['mdia', 'minf', 'stbl']`) down from `payload`; null when a step is missing. */
function descend(payload: Buffer, path: readonly string[]): Buffer | null {
  let cur: Buffer | null = payload;
  for (const step of path) {
    if (!cur) return null;
    cur = child(cur, step);
  }
  return cur;
}

/** Bounds-checked big-endian reads over one box payload. */
class Reader {
  constructor(
    private readonly b: Buffer,
    public off = 0,
  ) {}
  private need(n: number): void {
    if (this.off + n > this.b.length) throw new Mp4FormatError('box payload too short');
  }
  u8(): number {
    this.need(1);
    return this.b.readUInt8(this.off++);
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.b.readInt32BE(this.off);
    this.off += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.b.readBigUInt64BE(this.off);
    this.off += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Mp4FormatError('64-bit value out of range');
    return Number(v);
  }
  skip(n: number): void {
    this.need(n);
    this.off += n;
  }
  rest(): Buffer {
    return this.b.subarray(this.off);
  }
}

/** One track of an init segment. */
export interface Mp4Track {
  trackId: number;
  /** `hdlr` handler type: `vide`, `soun`, … */
  handler: string;
  /** `mdhd` timescale (ticks per second). */
  timescale: number;
  /** Sample entry type (`avc1`, `hvc1`, `av01`, `mp4a`, `Opus`, …); null when `stsd` has no entry. */
  sampleEntry: string | null;
  /** RFC 6381 codec string (`avc1.64001f`, `mp4a.40.2`, …); null when the codec is not understood. */
  codec: string | null;
  /** Picture size (visual sample entry, else `tkhd`); null for audio. */
  width: number | null;
  height: number | null;
  /** Audio sample rate (Hz) and channel count from the audio sample entry; null for video. */
  sampleRate: number | null;
  channels: number | null;
  /**
   * AAC only: the sampling rate of the AudioSpecificConfig in `esds`. When it differs from `sampleRate`/the `mdhd`
   * timescale, the muxer took the rate from the FLV tag header (which cannot say 48 kHz) and audio timing is wrong.
   */
  configSampleRate: number | null;
  /** `trex` defaults (§8.8.3) for fragments that set none in `tfhd`/`trun`. */
  defaultSampleDuration: number;
  defaultSampleFlags: number;
}

/** What an init segment (`ftyp` + `moov`) says. */
export interface Mp4Init {
  tracks: Mp4Track[];
  /** The first video track, if any. */
  video: Mp4Track | null;
  /** The first audio track, if any. */
  audio: Mp4Track | null;
  /** RFC 6381 codecs of all tracks, video first, comma-separated (`CODECS` attribute); tracks not understood skipped. */
  codecs: string;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** `avcC` (ISO/IEC 14496-15 §5.3.3.1) → `avc1.PPCCLL` (RFC 6381 §3.3). */
function avcCodec(entry: string, avcC: Buffer): string {
  const r = new Reader(avcC);
  r.u8(); // configurationVersion
  const profile = r.u8();
  const compat = r.u8();
  const level = r.u8();
  return `${entry}.${hex2(profile)}${hex2(compat)}${hex2(level)}`;
}

/** `hvcC` (ISO/IEC 14496-15 §8.3.3.1) → `hvc1.P.C.TL.B…` (ISO/IEC 14496-15 Annex E.3). */
function hevcCodec(entry: string, hvcC: Buffer): string {
  const r = new Reader(hvcC);
  r.u8(); // configurationVersion
  const b = r.u8();
  const space = b >> 6;
  const tier = (b >> 5) & 1;
  const profile = b & 0x1f;
  const compat = r.u32();
  const constraints: number[] = [];
  for (let i = 0; i < 6; i++) constraints.push(r.u8());
  const level = r.u8();
  let reversed = 0;
  for (let i = 0; i < 32; i++) if (compat & (1 << i)) reversed |= 1 << (31 - i);
  while (constraints.length > 0 && constraints[constraints.length - 1] === 0) constraints.pop();
  const spaceChar = ['', 'A', 'B', 'C'][space] ?? '';
  const parts = [entry, `${spaceChar}${profile}`, (reversed >>> 0).toString(16), `${tier ? 'H' : 'L'}${level}`, ...constraints.map((c) => c.toString(16))];
  return parts.join('.');
}

/** `av1C` (AV1 Codec ISO Media File Format Binding §2.3) → `av01.P.LLT.DD` (§5 "Codecs Parameter String"). */
function av1Codec(av1C: Buffer): string {
  const r = new Reader(av1C);
  r.u8(); // marker + version
  const b1 = r.u8();
  const b2 = r.u8();
  const profile = b1 >> 5;
  const level = b1 & 0x1f;
  const tier = b2 >> 7 ? 'H' : 'M';
  const highBitdepth = (b2 >> 6) & 1;
  const twelveBit = (b2 >> 5) & 1;
  const depth = highBitdepth ? (twelveBit ? 12 : 10) : 8;
  return `av01.${profile}.${String(level).padStart(2, '0')}${tier}.${String(depth).padStart(2, '0')}`;
}

/** Reads an MPEG-4 descriptor header (ISO/IEC 14496-1 §8.3.3: tag + 1–4 bytes of 7-bit size). */
function descriptor(r: Reader): { tag: number; size: number } {
  const tag = r.u8();
  let size = 0;
  for (let i = 0; i < 4; i++) {
    const b = r.u8();
    size = (size << 7) | (b & 0x7f);
    if (!(b & 0x80)) break;
  }
  return { tag, size };
}

/** Sampling frequencies by `samplingFrequencyIndex` (ISO/IEC 14496-3 §1.6.3.4, Table 1.18). */
const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** What an `esds` says: the RFC 6381 codec and, for AAC, the AudioSpecificConfig's sampling rate. */
interface Mp4aConfig {
  codec: string;
  /** From the AudioSpecificConfig (authoritative for the decoder); null when absent or not AAC. */
  sampleRate: number | null;
}

/**
 * `esds` (ISO/IEC 14496-14 §5.6) → `mp4a.40.N` (N = AAC audio object type from the AudioSpecificConfig,
 * ISO/IEC 14496-3 §1.6.2.1), or `mp4a.<OTI hex>` for another object type indication (RFC 6381 §3.3).
 */
function mp4aConfig(esds: Buffer): Mp4aConfig | null {
  const r = new Reader(esds);
  r.u32(); // version + flags
  const es = descriptor(r);
  if (es.tag !== 0x03) return null;
  r.u16(); // ES_ID
  const flags = r.u8();
  if (flags & 0x80) r.u16(); // dependsOn_ES_ID
  if (flags & 0x40) r.skip(r.u8()); // URL
  if (flags & 0x20) r.u16(); // OCR_ES_Id
  const dc = descriptor(r);
  if (dc.tag !== 0x04) return null;
  const oti = r.u8();
  r.skip(12); // streamType/upStream/reserved (1), bufferSizeDB (3), maxBitrate (4), avgBitrate (4)
  if (oti !== 0x40) return { codec: `mp4a.${hex2(oti)}`, sampleRate: null };
  const dsi = descriptor(r);
  if (dsi.tag !== 0x05 || dsi.size < 2) return { codec: 'mp4a.40.2', sampleRate: null };
  // AudioSpecificConfig bit fields: audioObjectType (5, escape 31 → 6 more), samplingFrequencyIndex (4, escape 15 →
  // a 24-bit frequency).
  let bits = 0;
  let nbits = 0;
  const take = (n: number): number => {
    while (nbits < n) {
      bits = ((bits << 8) | r.u8()) >>> 0;
      nbits += 8;
    }
    nbits -= n;
    return (bits >>> nbits) & ((1 << n) - 1);
  };
  let aot = take(5);
  if (aot === 31) aot = 32 + take(6);
  const index = take(4);
  const sampleRate = index === 15 ? take(24) : (AAC_RATES[index] ?? null);
  return { codec: `mp4a.40.${aot}`, sampleRate };
}

const VISUAL_ENTRIES = new Set(['avc1', 'avc3', 'hvc1', 'hev1', 'av01', 'vp09']);
const AUDIO_ENTRIES = new Set(['mp4a', 'Opus', 'fLaC', 'ac-3', 'ec-3']);

function parseSampleEntry(track: Mp4Track, stsd: Buffer): void {
  const r = new Reader(stsd);
  r.u32(); // version + flags
  const count = r.u32();
  if (count < 1) return;
  const entries = children(r.rest());
  const entry = entries[0];
  if (!entry) return;
  track.sampleEntry = entry.type;
  const e = new Reader(entry.body);
  e.skip(8); // reserved (6) + data_reference_index (2)
  if (VISUAL_ENTRIES.has(entry.type)) {
    e.skip(16); // pre_defined, reserved, pre_defined[3]
    track.width = e.u16();
    track.height = e.u16();
    e.skip(50); // resolutions, reserved, frame_count, compressorname[32], depth, pre_defined
    const boxes = e.rest();
    if (entry.type === 'avc1' || entry.type === 'avc3') {
      const avcC = child(boxes, 'avcC');
      track.codec = avcC ? avcCodec(entry.type, avcC) : null;
    } else if (entry.type === 'hvc1' || entry.type === 'hev1') {
      const hvcC = child(boxes, 'hvcC');
      track.codec = hvcC ? hevcCodec(entry.type, hvcC) : null;
    } else if (entry.type === 'av01') {
      const av1C = child(boxes, 'av1C');
      track.codec = av1C ? av1Codec(av1C) : null;
    }
  } else if (AUDIO_ENTRIES.has(entry.type)) {
    const version = e.u16();
    e.skip(6); // revision level + vendor (QuickTime) / reserved
    track.channels = e.u16();
    e.skip(6); // samplesize, pre_defined, reserved
    track.sampleRate = e.u32() >>> 16;
    if (version === 1) e.skip(16);
    else if (version === 2) e.skip(36);
    const boxes = e.rest();
    if (entry.type === 'mp4a') {
      const esds = child(boxes, 'esds');
      const config = esds ? mp4aConfig(esds) : null;
      track.codec = config?.codec ?? null;
      track.configSampleRate = config?.sampleRate ?? null;
    } else if (entry.type === 'Opus') track.codec = 'opus';
    else if (entry.type === 'fLaC') track.codec = 'fLaC';
    else track.codec = entry.type;
  }
}

/**
 * Parses an init segment: `ftyp` + `moov` (either the concatenated bytes or the `moov` box alone).
 * @throws {Mp4FormatError} when there is no `moov`, or a box inside it is malformed.
 */
export function parseInit(initSegment: Buffer): Mp4Init {
  const top = children(initSegment);
  const moov = top.find((c) => c.type === 'moov')?.body;
  if (!moov) throw new Mp4FormatError('init segment without moov');
  const trex = new Map<number, { duration: number; flags: number }>();
  const mvex = child(moov, 'mvex');
  if (mvex) {
    for (const c of children(mvex)) {
      if (c.type !== 'trex') continue;
      const r = new Reader(c.body);
      r.u32();
      const id = r.u32();
      r.u32(); // default_sample_description_index
      const duration = r.u32();
      r.u32(); // default_sample_size
      trex.set(id, { duration, flags: r.u32() });
    }
  }
  const tracks: Mp4Track[] = [];
  for (const trak of children(moov).filter((c) => c.type === 'trak')) {
    const tkhd = child(trak.body, 'tkhd');
    const mdhd = descend(trak.body, ['mdia', 'mdhd']);
    const hdlr = descend(trak.body, ['mdia', 'hdlr']);
    if (!tkhd || !mdhd || !hdlr) throw new Mp4FormatError('trak without tkhd, mdhd or hdlr');
    const th = new Reader(tkhd);
    const tv = th.u8();
    th.skip(3);
    th.skip(tv === 1 ? 16 : 8); // creation + modification time
    const trackId = th.u32();
    th.skip(4 + (tv === 1 ? 8 : 4) + 8 + 2 + 2 + 2 + 2 + 36); // reserved, duration, reserved, layer, group, volume, reserved, matrix
    const tkW = th.u32() / 65536;
    const tkH = th.u32() / 65536;
    const mh = new Reader(mdhd);
    const mv = mh.u8();
    mh.skip(3);
    mh.skip(mv === 1 ? 16 : 8);
    const timescale = mh.u32();
    if (timescale === 0) throw new Mp4FormatError('mdhd timescale 0');
    const hr = new Reader(hdlr);
    hr.skip(8); // version + flags, pre_defined
    const handler = hr.rest().toString('latin1', 0, 4);
    const defaults = trex.get(trackId) ?? { duration: 0, flags: 0 };
    const track: Mp4Track = {
      trackId, handler, timescale, sampleEntry: null, codec: null,
      width: handler === 'vide' && tkW > 0 ? Math.round(tkW) : null,
      height: handler === 'vide' && tkH > 0 ? Math.round(tkH) : null,
      sampleRate: null, channels: null, configSampleRate: null,
      defaultSampleDuration: defaults.duration, defaultSampleFlags: defaults.flags,
    };
    const stsd = descend(trak.body, ['mdia', 'minf', 'stbl', 'stsd']);
    if (stsd) parseSampleEntry(track, stsd);
    tracks.push(track);
  }
  const video = tracks.find((t) => t.handler === 'vide') ?? null;
  const audio = tracks.find((t) => t.handler === 'soun') ?? null;
  const ordered = [video, ...tracks.filter((t) => t !== video)];
  const codecs = ordered.map((t) => t?.codec).filter((c): c is string => !!c).join(',');
  return { tracks, video, audio, codecs };
}

/** The timing of one track in one `moof` (§8.8.4–8.8.12). */
export interface TrackFragment {
  trackId: number;
  /** `tfdt` baseMediaDecodeTime, track timescale ticks; null when absent. */
  baseDecodeTime: number | null;
  sampleCount: number;
  /** Sum of the sample durations, track timescale ticks. */
  durationTicks: number;
  /** Whether the first sample is a sync sample; null when the fragment has no samples of this track. */
  firstSampleSync: boolean | null;
}

/**
 * Whether ISOBMFF sample flags (§8.8.3.1) mark a sync sample: `sample_is_non_sync_sample` (0x10000) clear and
 * `sample_depends_on` (bits 24–25) not 1 ("depends on others").
 */
export function isSyncSample(flags: number): boolean {
  return (flags & 0x10000) === 0 && ((flags >>> 24) & 3) !== 1;
}

/**
 * Parses a `moof` box (whole box, header included) into per-track timing, using `tfhd` defaults, then `trex`
 * defaults from `init`, for samples the `trun` does not describe.
 * @throws {Mp4FormatError} when `moof` is malformed (e.g. a `trun` claiming more samples than it holds).
 */
export function parseMoof(moof: Buffer, init: Mp4Init): TrackFragment[] {
  const top = children(moof);
  const body = top[0]?.type === 'moof' ? top[0].body : null;
  if (!body) throw new Mp4FormatError('not a moof box');
  const out: TrackFragment[] = [];
  for (const traf of children(body).filter((c) => c.type === 'traf')) {
    const boxes = children(traf.body);
    const tfhdBox = boxes.find((c) => c.type === 'tfhd');
    if (!tfhdBox) throw new Mp4FormatError('traf without tfhd');
    const h = new Reader(tfhdBox.body);
    const hf = h.u32() & 0xffffff;
    const trackId = h.u32();
    const track = init.tracks.find((t) => t.trackId === trackId);
    if (hf & 0x01) h.skip(8); // base_data_offset
    if (hf & 0x02) h.skip(4); // sample_description_index
    const defDuration = hf & 0x08 ? h.u32() : (track?.defaultSampleDuration ?? 0);
    if (hf & 0x10) h.skip(4); // default_sample_size
    const defFlags = hf & 0x20 ? h.u32() : (track?.defaultSampleFlags ?? 0);
    let baseDecodeTime: number | null = null;
    const tfdt = boxes.find((c) => c.type === 'tfdt');
    if (tfdt) {
      const r = new Reader(tfdt.body);
      const v = r.u8();
      r.skip(3);
      baseDecodeTime = v === 1 ? r.u64() : r.u32();
    }
    let sampleCount = 0;
    let durationTicks = 0;
    let firstSampleSync: boolean | null = null;
    for (const trun of boxes.filter((c) => c.type === 'trun')) {
      const r = new Reader(trun.body);
      r.u8();
      const tf = (r.u8() << 16) | r.u16();
      const count = r.u32();
      const perSample = (tf & 0x100 ? 4 : 0) + (tf & 0x200 ? 4 : 0) + (tf & 0x400 ? 4 : 0) + (tf & 0x800 ? 4 : 0);
      if (tf & 0x01) r.i32(); // data_offset
      const firstFlags = tf & 0x04 ? r.u32() : null;
      if (count * perSample > trun.body.length - r.off) throw new Mp4FormatError('trun sample count exceeds its box');
      for (let i = 0; i < count; i++) {
        const duration = tf & 0x100 ? r.u32() : defDuration;
        if (tf & 0x200) r.skip(4); // size
        const flags = tf & 0x400 ? r.u32() : i === 0 && firstFlags !== null ? firstFlags : defFlags;
        if (tf & 0x800) r.skip(4); // composition time offset
        if (sampleCount === 0 && i === 0) firstSampleSync = isSyncSample(i === 0 && firstFlags !== null ? firstFlags : flags);
        durationTicks += duration;
      }
      sampleCount += count;
    }
    out.push({ trackId, baseDecodeTime, sampleCount, durationTicks, firstSampleSync });
  }
  return out;
}
