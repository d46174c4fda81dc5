/**
 * Keyframe detection in fMP4 segments (./fmp4-sync.ts) on real ffmpeg output: 1-s segments cut by time with a
 * keyframe every 4 s start with a sync sample exactly at 0, 4, 8 s (cross-checked with ffprobe's packet flags); a
 * playlist of 2-s segments with a 2-s GOP starts every segment with one; the cutter moves a clip's start back to the
 * nearest keyframe of a playlist without EXT-X-INDEPENDENT-SEGMENTS.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { chooseClipRange, placeSegments } from './clip-cutter.js';
import { startsWithSyncSample, videoTrackOf } from './fmp4-sync.js';
import { encodeRendition } from '../test-support/recording-fixture.js';

const exec = promisify(execFile);

/** ffprobe's view: whether the first video packet of init + segment is a keyframe. */
async function ffprobeKeyframe(dir: string, segment: string): Promise<boolean> {
  const file = join(dir, 'probe.mp4');
  await writeFile(file, Buffer.concat([await readFile(join(dir, 'source-i0.mp4')), await readFile(join(dir, segment))]));
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'packet=flags', '-of', 'csv=p=0', '-read_intervals', '%+#1', file]);
  return stdout.trim().startsWith('K');
}

describe('fMP4 keyframe detection', () => {
  let byTime: string;
  let aligned: string;
  before(async () => {
    byTime = await encodeRendition(12, { gopSeconds: 4, segmentSeconds: 1 });
    aligned = await encodeRendition(8);
  });
  after(async () => {
    await rm(byTime, { recursive: true, force: true });
    await rm(aligned, { recursive: true, force: true });
  });

  it('reads the video track and the first sample flags of each segment', async () => {
    const track = videoTrackOf(await readFile(join(byTime, 'source-i0.mp4')));
    assert.ok(track, 'a video track');
    const { segments, independentSegments } = placeSegments(await readFile(join(byTime, 'source.m3u8'), 'utf8'));
    assert.equal(independentSegments, false);
    assert.equal(segments.length, 12);
    const ours: boolean[] = [];
    const theirs: boolean[] = [];
    for (const s of segments) {
      ours.push(startsWithSyncSample(await readFile(join(byTime, s.file)), track) === true);
      theirs.push(await ffprobeKeyframe(byTime, s.file));
    }
    assert.deepEqual(ours, theirs, 'agrees with ffprobe');
    assert.deepEqual(ours.map((k, i) => (k ? i : -1)).filter((i) => i >= 0), [0, 4, 8]);
    assert.equal(startsWithSyncSample(Buffer.from('not an mp4 at all'), track), null, 'unknown, not false');
    assert.equal(videoTrackOf(Buffer.alloc(4)), null);

    const alignedTrack = videoTrackOf(await readFile(join(aligned, 'source-i0.mp4')))!;
    const alignedPlaylist = placeSegments(await readFile(join(aligned, 'source.m3u8'), 'utf8'));
    assert.equal(alignedPlaylist.independentSegments, true);
    for (const s of alignedPlaylist.segments) assert.equal(startsWithSyncSample(await readFile(join(aligned, s.file)), alignedTrack), true, s.file);
  });

  it('moves a clip start back to the nearest keyframe when segments are not independent', async () => {
    const track = videoTrackOf(await readFile(join(byTime, 'source-i0.mp4')))!;
    const { segments } = placeSegments(await readFile(join(byTime, 'source.m3u8'), 'utf8'));
    const probe = async (s: { file: string }) => startsWithSyncSample(await readFile(join(byTime, s.file)), track);
    const range = await chooseClipRange(segments, 6.5, 5, probe);
    assert.equal(range?.startMs, 4000, 'from the keyframe at 4 s, not the segment at 6 s');
    assert.equal(range?.durationMs, 7500, 'to the asked end, 11.5 s');
    assert.equal((await chooseClipRange(segments, 6.5, 5))?.startMs, 6000, 'without the probe: the segment at or before the start');
    assert.equal(await chooseClipRange(segments, 12, 5, probe), null, 'no media past the end');
  });
});
