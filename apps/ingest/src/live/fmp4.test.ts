/**
 * live/fmp4.ts on real ffmpeg output (lavfi test pattern + sine, fragmented as the packager asks) and on
 * hand-built hostile boxes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { BoxSplitter, isSyncSample, MAX_BOX_BYTES, Mp4FormatError, parseInit, parseMoof, type Mp4Box } from './fmp4.js';

/** Runs ffmpeg with lavfi inputs and returns the fragmented MP4 it writes to stdout. */
function ffmpegFmp4(video: string[], audio: string[], seconds: number, fragUs = 200_000): Promise<Buffer> {
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-f', 'lavfi', '-i', video[0]!, '-f', 'lavfi', '-i', audio[0]!, '-t', String(seconds),
    ...video.slice(1), ...audio.slice(1),
    '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof+frag_keyframe+skip_trailer', '-frag_duration', String(fragUs), 'pipe:1',
  ];
  return new Promise((resolve, reject) => {
    execFile('ffmpeg', args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout) => (err ? reject(new Error(err.message)) : resolve(stdout)));
  });
}

const H264_30 = ['testsrc2=size=640x360:rate=30', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-pix_fmt', 'yuv420p'];
const AAC_48K = ['sine=frequency=1000:sample_rate=48000', '-c:a', 'aac', '-ac', '2'];

/** Splits `bytes` feeding chunks of `size` bytes. */
function split(bytes: Buffer, size: number): Mp4Box[] {
  const s = new BoxSplitter();
  const out: Mp4Box[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...s.push(bytes.subarray(i, i + size)));
  assert.equal(s.pendingBytes, 0);
  return out;
}

function box(type: string, payload: Buffer | number[] = []): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const h = Buffer.alloc(8);
  h.writeUInt32BE(8 + body.length, 0);
  h.write(type, 4, 'latin1');
  return Buffer.concat([h, body]);
}

void describe('fMP4 from ffmpeg (H.264 + AAC)', () => {
  void it('splits into ftyp, moov, then moof+mdat pairs, whatever the chunk size', async () => {
    const bytes = await ffmpegFmp4(H264_30, AAC_48K, 3);
    const whole = split(bytes, bytes.length);
    assert.deepEqual(whole.slice(0, 2).map((b) => b.type), ['ftyp', 'moov']);
    const rest = whole.slice(2).map((b) => b.type);
    assert.ok(rest.length >= 20);
    rest.forEach((t, i) => assert.equal(t, i % 2 === 0 ? 'moof' : 'mdat'));
    for (const size of [1, 7, 4096]) {
      const boxes = split(bytes, size);
      assert.deepEqual(boxes.map((b) => b.type), whole.map((b) => b.type));
      assert.ok(Buffer.concat(boxes.map((b) => b.data)).equals(bytes));
    }
  });

  void it('reads tracks, codecs and sizes from the init segment', async () => {
    const boxes = split(await ffmpegFmp4(H264_30, AAC_48K, 1), 65536);
    const init = parseInit(Buffer.concat([boxes[0]!.data, boxes[1]!.data]));
    assert.equal(init.video?.handler, 'vide');
    assert.match(init.video?.codec ?? '', /^avc1\.42[0-9a-f]{4}$/, 'x264 ultrafast: constrained baseline');
    assert.equal(init.video?.width, 640);
    assert.equal(init.video?.height, 360);
    assert.ok((init.video?.timescale ?? 0) > 0);
    assert.equal(init.audio?.codec, 'mp4a.40.2');
    assert.equal(init.audio?.sampleRate, 48000);
    assert.equal(init.audio?.channels, 2);
    assert.equal(init.audio?.timescale, 48000);
    assert.equal(init.audio?.configSampleRate, 48000);
    assert.equal(init.codecs, `${init.video?.codec},mp4a.40.2`);
  });

  void it('times each fragment; fragments start on keyframes once a second and last ≤ 0.2 s of video', async () => {
    const boxes = split(await ffmpegFmp4(H264_30, AAC_48K, 4), 65536);
    const init = parseInit(Buffer.concat([boxes[0]!.data, boxes[1]!.data]));
    const video = init.video!;
    let total = 0;
    let keyframeAt: number[] = [];
    let expectedDecode = 0;
    for (let i = 2; i < boxes.length; i += 2) {
      const v = parseMoof(boxes[i]!.data, init).find((t) => t.trackId === video.trackId)!;
      assert.equal(v.baseDecodeTime, expectedDecode, 'tfdt continues where the previous fragment ended');
      expectedDecode += v.durationTicks;
      if (v.firstSampleSync) keyframeAt.push(total / video.timescale);
      total += v.durationTicks;
      assert.ok(v.durationTicks / video.timescale <= 0.2 + 1e-9 || i === 2, `fragment ${i / 2} lasts ${v.durationTicks / video.timescale} s`);
    }
    keyframeAt = keyframeAt.map((t) => Math.round(t * 10) / 10);
    assert.deepEqual(keyframeAt, [0, 1, 2, 3]);
    assert.ok(Math.abs(total / video.timescale - 4) < 0.1);
  });

  void it('names HEVC and AV1 tracks (hvc1 / av01)', async () => {
    const hevc = split(await ffmpegFmp4(['testsrc2=size=320x240:rate=10', '-c:v', 'libx265', '-preset', 'ultrafast', '-tag:v', 'hvc1', '-x265-params', 'log-level=error'], ['sine', '-c:a', 'libopus'], 0.5), 65536);
    const h = parseInit(Buffer.concat([hevc[0]!.data, hevc[1]!.data]));
    assert.match(h.video?.codec ?? '', /^hvc1\.1\.6\.L\d+\.[0-9a-f.]+$/);
    assert.equal(h.audio?.codec, 'opus');
    const av1 = split(await ffmpegFmp4(['testsrc2=size=320x240:rate=10', '-c:v', 'libsvtav1', '-preset', '12'], ['sine', '-c:a', 'aac'], 0.5), 65536);
    const a = parseInit(Buffer.concat([av1[0]!.data, av1[1]!.data]));
    assert.match(a.video?.codec ?? '', /^av01\.0\.\d{2}M\.08$/);
    assert.equal(a.video?.width, 320);
  });
});

void describe('hostile boxes', () => {
  void it('holds a truncated box until the rest arrives, and never more than one box', () => {
    const s = new BoxSplitter();
    const b = box('mdat', Buffer.alloc(100, 1));
    assert.deepEqual(s.push(b.subarray(0, 5)), []);
    assert.deepEqual(s.push(b.subarray(5, 60)), []);
    assert.equal(s.pendingBytes, 60);
    const out = s.push(Buffer.concat([b.subarray(60), box('free')]));
    assert.deepEqual(out.map((x) => x.type), ['mdat', 'free']);
    assert.ok(out[0]!.data.equals(b));
  });

  void it('refuses size 0, sizes below the header, sizes above the limit and non-ASCII types', () => {
    const cases: [string, Buffer][] = [
      ['size 0', Buffer.from([0, 0, 0, 0, 0x6d, 0x64, 0x61, 0x74])],
      ['size 4', Buffer.from([0, 0, 0, 4, 0x6d, 0x64, 0x61, 0x74])],
      ['32-bit huge', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x6d, 0x64, 0x61, 0x74])],
      ['64-bit huge', Buffer.from([0, 0, 0, 1, 0x6d, 0x64, 0x61, 0x74, 0, 0, 0, 1, 0, 0, 0, 0])],
      ['64-bit below header', Buffer.from([0, 0, 0, 1, 0x6d, 0x64, 0x61, 0x74, 0, 0, 0, 0, 0, 0, 0, 12])],
      ['binary type', Buffer.from([0, 0, 0, 8, 0, 1, 2, 3])],
    ];
    for (const [name, bytes] of cases) {
      const s = new BoxSplitter();
      assert.throws(() => s.push(bytes), Mp4FormatError, name);
      assert.throws(() => s.push(box('free')), /after an error/, `${name}: unusable afterwards`);
    }
    const small = new BoxSplitter(1024);
    assert.throws(() => small.push(box('mdat', Buffer.alloc(2000)).subarray(0, 8)), /exceeds the limit of 1024/);
    assert.equal(MAX_BOX_BYTES, 64 * 1024 * 1024);
  });

  void it('reads a valid 64-bit largesize box and passes unknown types through', () => {
    const payload = Buffer.alloc(10, 7);
    const large = Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.from('zzzz', 'latin1'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 26]), payload]);
    const out = new BoxSplitter().push(Buffer.concat([large, box('abcd', [1, 2])]));
    assert.deepEqual(out.map((b) => [b.type, b.data.length]), [['zzzz', 26], ['abcd', 10]]);
  });

  void it('refuses malformed init segments and fragments with Mp4FormatError', async () => {
    assert.throws(() => parseInit(box('ftyp', Buffer.from('isom'))), /without moov/);
    assert.throws(() => parseInit(box('moov', box('trak', box('tkhd', [0, 0])))), Mp4FormatError);
    // A child claiming more bytes than its parent holds.
    const overrun = box('moov', Buffer.from([0, 0, 0, 64, 0x74, 0x72, 0x61, 0x6b]));
    assert.throws(() => parseInit(overrun), /overruns/);
    const boxes = split(await ffmpegFmp4(H264_30, AAC_48K, 0.5), 65536);
    const init = parseInit(Buffer.concat([boxes[0]!.data, boxes[1]!.data]));
    assert.throws(() => parseMoof(box('mdat'), init), /not a moof/);
    // A trun announcing 1,000,000 samples with per-sample durations in a few bytes.
    const trun = box('trun', [0, 0, 1, 0, 0, 0x0f, 0x42, 0x40, 0, 0, 0, 1]);
    const tfhd = box('tfhd', [0, 0, 0, 0, 0, 0, 0, 1]);
    assert.throws(() => parseMoof(box('moof', box('traf', Buffer.concat([tfhd, trun]))), init), /sample count exceeds/);
    assert.throws(() => parseMoof(box('moof', box('traf', trun)), init), /without tfhd/);
  });

  void it('classifies sample flags (ISO/IEC 14496-12 §8.8.3.1)', () => {
    assert.equal(isSyncSample(0x02000000), true); // depends on no other sample
    assert.equal(isSyncSample(0x01010000), false); // depends on others, non-sync
    assert.equal(isSyncSample(0x00010000), false);
    assert.equal(isSyncSample(0), true);
  });
});
