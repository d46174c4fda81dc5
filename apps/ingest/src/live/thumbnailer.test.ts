/**
 * The thumbnailer (./thumbnailer.ts) with real ffmpeg and ffprobe: real fragmented MP4 made by ffmpeg (lavfi
 * testsrc, `empty_moov+default_base_moof+frag_keyframe`), cut into the init segment and keyframe parts by a small
 * top-level box splitter, fed through an in-memory {@link KeyframeSource}.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { waitUntil } from '../test-support/harness.js';
import type { KeyframeSource } from './media-sink.js';
import { loadIngestConfig } from '../config.js';
import { DEFAULT_THUMBNAIL_INTERVAL_MS, Thumbnailer, type ThumbnailerOptions } from './thumbnailer.js';

const execFileP = promisify(execFile);

/** Top-level MP4 boxes of `data` (ISO/IEC 14496-12 §4.2: 32-bit size + type, size 1 = 64-bit largesize follows). */
function splitBoxes(data: Buffer): { type: string; bytes: Buffer }[] {
  const boxes: { type: string; bytes: Buffer }[] = [];
  for (let off = 0; off + 8 <= data.length; ) {
    let size = data.readUInt32BE(off);
    if (size === 1) size = Number(data.readBigUInt64BE(off + 8));
    if (size < 8 || off + size > data.length) throw new Error(`bad box at ${off}`);
    boxes.push({ type: data.toString('latin1', off + 4, off + 8), bytes: data.subarray(off, off + size) });
    off += size;
  }
  return boxes;
}

/** Init segment (`ftyp`+`moov`) and the keyframe parts (`moof`+`mdat`; `frag_keyframe` starts each at a keyframe). */
interface Fmp4Clip {
  initSegment: Buffer;
  parts: Buffer[];
}

/** Encodes `seconds` of a `size` test pattern (1-s GOP, with AAC audio) into fragmented MP4 and splits it. */
async function makeClip(size: string, seconds: number): Promise<Fmp4Clip> {
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=48000',
    '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
    '-f', 'mp4', '-movflags', 'empty_moov+default_base_moof+frag_keyframe', 'pipe:1',
  ];
  const { stdout } = await execFileP('ffmpeg', args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  const boxes = splitBoxes(stdout);
  const moov = boxes.findIndex((b) => b.type === 'moov');
  assert.ok(moov > 0, 'ffmpeg wrote a moov');
  const initSegment = Buffer.concat(boxes.slice(0, moov + 1).map((b) => b.bytes));
  const parts: Buffer[] = [];
  for (let i = moov + 1; i < boxes.length; i++) {
    if (boxes[i]?.type === 'moof' && boxes[i + 1]?.type === 'mdat') parts.push(Buffer.concat([boxes[i]!.bytes, boxes[i + 1]!.bytes]));
  }
  assert.ok(parts.length >= 2, `at least two fragments, got ${parts.length}`);
  return { initSegment, parts };
}

/** Width, height and codec of the first video stream of a file (ffprobe). */
async function probePicture(file: string): Promise<{ codec_name: string; width: number; height: number }> {
  const { stdout } = await execFileP('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file]);
  const streams = (JSON.parse(stdout) as { streams: { codec_name: string; width: number; height: number }[] }).streams;
  assert.equal(streams.length, 1, 'one picture stream');
  return streams[0]!;
}

/** A keyframe source over a map the test changes. */
class MapKeyframeSource implements KeyframeSource {
  readonly latest = new Map<string, { initSegment: Buffer; part: Buffer; at: number }>();
  latestKeyframe(username: string) {
    return this.latest.get(username) ?? null;
  }
}

/** A pino logger whose JSON lines the test reads. */
function memoryLog(): { log: ThumbnailerOptions['log']; lines: () => { level: number; msg: string; username?: string; err?: string; keptPrevious?: boolean }[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as never) };
}

void describe('Thumbnailer', () => {
  let dir: string;
  let hd: Fmp4Clip;
  let small: Fmp4Clip;
  const thumbnailers: Thumbnailer[] = [];
  const make = (opts: Omit<ThumbnailerOptions, 'ffmpegPath' | 'intervalMs'> & Partial<ThumbnailerOptions>): Thumbnailer => {
    const t = new Thumbnailer({ ffmpegPath: 'ffmpeg', intervalMs: 15_000, ...opts });
    thumbnailers.push(t);
    return t;
  };

  void before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'thumbs-'));
    hd = await makeClip('1280x720', 3);
    small = await makeClip('320x240', 2);
  });
  void after(async () => {
    for (const t of thumbnailers) await t.stop();
    await rm(dir, { recursive: true, force: true });
  });

  void it('turns the first keyframe part into a JPEG of the configured width, aspect kept', async () => {
    const source = new MapKeyframeSource();
    const { log } = memoryLog();
    const t = make({ source, liveChannels: () => ['alice', 'bob'], log });
    t.poll();
    assert.equal(t.thumbnail('alice'), null, 'no keyframe part yet: no thumbnail');
    source.latest.set('alice', { initSegment: hd.initSegment, part: hd.parts[0]!, at: 1000 });
    source.latest.set('bob', { initSegment: small.initSegment, part: small.parts[1]!, at: 1000 });
    t.poll();
    const alice = await waitUntil('alice thumbnail', () => t.thumbnail('alice') ?? undefined);
    const bob = await waitUntil('bob thumbnail', () => t.thumbnail('bob') ?? undefined);
    await writeFile(path.join(dir, 'alice.jpg'), alice.jpeg);
    await writeFile(path.join(dir, 'bob.jpg'), bob.jpeg);
    assert.deepEqual(await probePicture(path.join(dir, 'alice.jpg')), { codec_name: 'mjpeg', width: 640, height: 360 });
    // Narrower than the configured width: not upscaled.
    assert.deepEqual(await probePicture(path.join(dir, 'bob.jpg')), { codec_name: 'mjpeg', width: 320, height: 240 });
    assert.ok(Math.abs(alice.at - Date.now()) < 10_000);
    assert.equal(t.thumbnail('carol'), null, 'an unknown channel has none');
  });

  void it('refreshes only after the interval and only from a newer keyframe part; forgets ended channels', async () => {
    const clock = { t: 1_000_000 };
    const source = new MapKeyframeSource();
    const { log } = memoryLog();
    const live = new Set(['alice']);
    const t = make({ source, liveChannels: () => live, log, intervalMs: 15_000, width: 160, now: () => clock.t });
    source.latest.set('alice', { initSegment: small.initSegment, part: small.parts[0]!, at: clock.t });
    t.poll();
    const first = await waitUntil('first thumbnail', () => t.thumbnail('alice') ?? undefined);

    // Within the interval, even with a new part: no new picture.
    clock.t += 5000;
    source.latest.set('alice', { initSegment: small.initSegment, part: small.parts[1]!, at: clock.t });
    t.poll();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(t.thumbnail('alice'), first);

    // After the interval: a new picture from the newer part.
    clock.t += 15_000;
    t.poll();
    const second = await waitUntil('second thumbnail', () => (t.thumbnail('alice') !== first ? t.thumbnail('alice')! : undefined));
    assert.equal(second.at, clock.t);
    assert.notDeepEqual(second.jpeg, first.jpeg, 'a different frame of the test pattern');

    // Interval passed again but the same keyframe part: nothing to do.
    clock.t += 20_000;
    t.poll();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(t.thumbnail('alice'), second);

    // The broadcast ends: the picture is forgotten at the next poll.
    live.delete('alice');
    t.poll();
    assert.equal(t.thumbnail('alice'), null);
  });

  void it('keeps the previous thumbnail and logs the error when a part is corrupt', async () => {
    const clock = { t: 2_000_000 };
    const source = new MapKeyframeSource();
    const { log, lines } = memoryLog();
    // (a warm ffmpeg given a moof without its mdat waits for more input: the deadline ends it)
    const t = make({ source, liveChannels: () => ['alice', 'dave'], log, width: 160, timeoutMs: 2000, now: () => clock.t });
    // dave: garbage instead of moof+mdat from the very start → no thumbnail at all.
    const garbage = Buffer.alloc(4096, 0x5a);
    source.latest.set('dave', { initSegment: small.initSegment, part: garbage, at: clock.t });
    source.latest.set('alice', { initSegment: small.initSegment, part: small.parts[0]!, at: clock.t });
    t.poll();
    const good = await waitUntil('alice thumbnail', () => t.thumbnail('alice') ?? undefined);
    await waitUntil('dave failure logged', () => lines().find((l) => l.username === 'dave' && l.msg === 'thumbnail failed'));
    assert.equal(t.thumbnail('dave'), null);

    // alice's next part is corrupt: its mdat is truncated away.
    clock.t += 20_000;
    const part = small.parts[1]!;
    const moofSize = part.readUInt32BE(0);
    source.latest.set('alice', { initSegment: small.initSegment, part: part.subarray(0, moofSize), at: clock.t });
    t.poll();
    const failure = await waitUntil('alice failure logged', () => lines().find((l) => l.username === 'alice' && l.msg === 'thumbnail failed'));
    assert.equal(failure.keptPrevious, true);
    assert.match(failure.err ?? '', /ffmpeg/);
    assert.equal(t.thumbnail('alice'), good, 'the previous thumbnail is kept');
  });

  void it('keeps a warm ffmpeg per channel: one process for many pictures, replaced on a new init, stopped when the channel ends', async () => {
    const journal = path.join(dir, 'warm-journal.txt');
    const wrapper = path.join(dir, 'ffmpeg-warm-journal.sh');
    // Records each ffmpeg's pid, then becomes that ffmpeg (exec: the thumbnailer's kill reaches it).
    await writeFile(wrapper, `#!/bin/sh\necho $$ >> '${journal}'\nexec ffmpeg "$@"\n`);
    await chmod(wrapper, 0o755);
    const runs = async () => (await readFile(journal, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map(Number);
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const clock = { t: 3_000_000 };
    const source = new MapKeyframeSource();
    const live = new Set(['alice', 'bob']);
    const { log } = memoryLog();
    // One warm slot: alice gets it, bob (second in the queue) runs one-shot.
    const t = make({ source, liveChannels: () => live, log, ffmpegPath: wrapper, width: 160, warmDecoders: 1, now: () => clock.t });
    const keyParts = hd.parts; // each one GOP, starting with a keyframe
    assert.ok(keyParts.length >= 3, `${keyParts.length} keyframe parts`);
    source.latest.set('alice', { initSegment: hd.initSegment, part: keyParts[0]!, at: clock.t });
    t.poll();
    const pictures = [await waitUntil('alice picture 1', () => t.thumbnail('alice') ?? undefined)];
    for (let i = 1; i < 3; i++) {
      clock.t += 15_000;
      source.latest.set('alice', { initSegment: hd.initSegment, part: keyParts[i]!, at: clock.t });
      t.poll();
      const prev = pictures[i - 1];
      pictures.push(await waitUntil(`alice picture ${i + 1}`, () => (t.thumbnail('alice') !== prev ? t.thumbnail('alice')! : undefined)));
    }
    // Each picture is of the part just fed (not the one before: frame threading would hold one back).
    const oneShot = make({ source, liveChannels: () => ['alice'], log, width: 160, warmDecoders: 0 });
    oneShot.poll();
    const reference = await waitUntil('one-shot picture of the last part', () => oneShot.thumbnail('alice') ?? undefined);
    assert.deepEqual(pictures[2]!.jpeg, reference.jpeg, 'the warm picture equals a one-shot run of the same part');
    assert.notDeepEqual(pictures[1]!.jpeg, pictures[2]!.jpeg);
    const [warmPid] = await runs();
    assert.equal((await runs()).length, 1, 'three pictures from one ffmpeg');
    assert.ok(warmPid && alive(warmPid), 'still running between pictures');
    assert.equal(t.warmCount(), 1);

    // bob: the warm slot is taken, so one-shot runs (start, end).
    source.latest.set('bob', { initSegment: small.initSegment, part: small.parts[0]!, at: clock.t });
    t.poll();
    await waitUntil('bob picture', () => t.thumbnail('bob') ?? undefined);
    const bobPid = (await runs())[1];
    assert.ok(bobPid && !alive(bobPid), 'bob: a one-shot ffmpeg that ended');
    assert.equal((await runs()).length, 2);
    assert.equal(t.warmCount(), 1);

    // A new init segment (a packager restart with another picture size): the warm ffmpeg is replaced.
    clock.t += 15_000;
    const before = t.thumbnail('alice');
    source.latest.set('alice', { initSegment: small.initSegment, part: small.parts[0]!, at: clock.t });
    t.poll();
    const resized = await waitUntil('alice after a new init', () => (t.thumbnail('alice') !== before ? t.thumbnail('alice')! : undefined));
    await writeFile(path.join(dir, 'resized.jpg'), resized.jpeg);
    assert.deepEqual(await probePicture(path.join(dir, 'resized.jpg')), { codec_name: 'mjpeg', width: 160, height: 120 });
    await waitUntil('the first warm ffmpeg ended', () => (!alive(warmPid) ? true : undefined));
    const secondPid = (await runs())[2];
    assert.ok(secondPid && alive(secondPid), 'a new warm ffmpeg for the new init');
    assert.equal(t.warmCount(), 1);

    // The channel ends: its warm ffmpeg is stopped at the next poll.
    live.delete('alice');
    t.poll();
    assert.equal(t.warmCount(), 0);
    await waitUntil('the second warm ffmpeg ended', () => (!alive(secondPid) ? true : undefined));
  });

  void it('runs one ffmpeg at a time across channels, and bounds each run in time and output size', async () => {
    // A wrapper around the real ffmpeg that records when each run starts and ends.
    const journal = path.join(dir, 'journal.txt');
    const wrapper = path.join(dir, 'ffmpeg-journal.sh');
    await writeFile(wrapper, `#!/bin/sh\necho start >> '${journal}'\nffmpeg "$@"\nrc=$?\necho end >> '${journal}'\nexit $rc\n`);
    await chmod(wrapper, 0o755);
    const source = new MapKeyframeSource();
    const users = ['u1', 'u2', 'u3', 'u4'];
    for (const u of users) source.latest.set(u, { initSegment: hd.initSegment, part: hd.parts[0]!, at: 1 });
    const { log } = memoryLog();
    // One-shot runs (no warm decoders), so each run's start and end are in the journal.
    const t = make({ source, liveChannels: () => users, log, ffmpegPath: wrapper, warmDecoders: 0 });
    t.poll();
    t.poll(); // a second poll while the queue runs queues nothing twice
    for (const u of users) await waitUntil(`${u} thumbnail`, () => t.thumbnail(u) ?? undefined);
    assert.equal((await readFile(journal, 'utf8')).trim().split('\n').join(','), users.map(() => 'start,end').join(','));

    // A hanging ffmpeg is killed at the deadline.
    const hang = path.join(dir, 'ffmpeg-hang.sh');
    await writeFile(hang, '#!/bin/sh\nexec sleep 30\n');
    await chmod(hang, 0o755);
    const slow = memoryLog();
    const t2 = make({ source, liveChannels: () => ['u1'], log: slow.log, ffmpegPath: hang, timeoutMs: 300 });
    t2.poll();
    const timedOut = await waitUntil('timeout logged', () => slow.lines().find((l) => l.msg === 'thumbnail failed'), 5000);
    assert.match(timedOut.err ?? '', /longer than 300 ms/);
    assert.equal(t2.thumbnail('u1'), null);

    // Output beyond the cap is refused.
    const big = memoryLog();
    const t3 = make({ source, liveChannels: () => ['u1'], log: big.log, maxJpegBytes: 200 });
    t3.poll();
    const capped = await waitUntil('cap logged', () => big.lines().find((l) => l.msg === 'thumbnail failed'));
    assert.match(capped.err ?? '', /more than 200 bytes/);
    assert.equal(t3.thumbnail('u1'), null);

    // A missing ffmpeg is an error logged, not thrown.
    const missing = memoryLog();
    const t4 = make({ source, liveChannels: () => ['u1'], log: missing.log, ffmpegPath: path.join(dir, 'no-such-ffmpeg') });
    t4.poll();
    const notFound = await waitUntil('ENOENT logged', () => missing.lines().find((l) => l.msg === 'thumbnail failed'));
    assert.match(notFound.err ?? '', /ENOENT/);
  });

  void it('starts polling on start() and forgets everything on stop()', async () => {
    const source = new MapKeyframeSource();
    source.latest.set('alice', { initSegment: small.initSegment, part: small.parts[0]!, at: 5 });
    const { log } = memoryLog();
    const t = make({ source, liveChannels: () => ['alice'], log, pollMs: 100 });
    t.start();
    await waitUntil('thumbnail', () => t.thumbnail('alice') ?? undefined);
    await t.stop();
    assert.equal(t.thumbnail('alice'), null);
    t.poll();
    assert.equal(t.thumbnail('alice'), null, 'a stopped thumbnailer does nothing');
  });

  void it('reads INGEST_THUMBNAIL_INTERVAL_MS (default 15 s, at least 1 s)', () => {
    assert.equal(loadIngestConfig({}).thumbnailIntervalMs, DEFAULT_THUMBNAIL_INTERVAL_MS);
    assert.equal(loadIngestConfig({ INGEST_THUMBNAIL_INTERVAL_MS: '10000' }).thumbnailIntervalMs, 10_000);
    assert.throws(() => loadIngestConfig({ INGEST_THUMBNAIL_INTERVAL_MS: '500' }), /INGEST_THUMBNAIL_INTERVAL_MS must be at least 1000/);
    assert.throws(() => loadIngestConfig({ INGEST_THUMBNAIL_INTERVAL_MS: 'soon' }), /INGEST_THUMBNAIL_INTERVAL_MS/);
  });

  void it('refuses settings out of range', () => {
    const { log } = memoryLog();
    const source = new MapKeyframeSource();
    assert.throws(() => new Thumbnailer({ source, liveChannels: () => [], ffmpegPath: 'ffmpeg', intervalMs: 10, log }), RangeError);
    assert.throws(() => new Thumbnailer({ source, liveChannels: () => [], ffmpegPath: 'ffmpeg', intervalMs: 15_000, width: 8, log }), RangeError);
    assert.throws(() => new Thumbnailer({ source, liveChannels: () => [], ffmpegPath: 'ffmpeg', intervalMs: 15_000, quality: 40, log }), RangeError);
  });
});
