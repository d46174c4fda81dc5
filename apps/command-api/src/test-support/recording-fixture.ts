/**
 * Test support: a real recording in a RECORDINGS_DIR as the ingest lays it out (media-storage port.ts): an fMP4 HLS
 * rendition `source` made by ffmpeg (H.264 with a keyframe every 2 s, AAC; 2-s segments, EXT-X-PROGRAM-DATE-TIME,
 * EXT-X-INDEPENDENT-SEGMENTS), `index.m3u8` and `manifest.json`.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { RECORDING_MANIFEST_FILE, VOD_MULTIVARIANT_PLAYLIST, type BroadcastRecordedRequest, type RecordingManifest } from '@eventcast/contracts';
import { CommandPatterns } from '@eventcast/events';
import type { Harness } from './harness.js';

const exec = promisify(execFile);

/**
 * Encodes `seconds` of test picture and tone once into a temporary directory. Default: a keyframe every 2 s and 2-s
 * segments, each starting with one (EXT-X-INDEPENDENT-SEGMENTS). `{ gopSeconds: 4, segmentSeconds: 1 }` cuts segments
 * by time between keyframes (ffmpeg `split_by_time`), without EXT-X-INDEPENDENT-SEGMENTS.
 * @returns the directory.
 */
export async function encodeRendition(seconds = 30, { gopSeconds = 2, segmentSeconds = 2 } = {}): Promise<string> {
  const independent = gopSeconds === segmentSeconds;
  const dir = await mkdtemp(join(tmpdir(), 'eventcast-rec-fixture-'));
  await exec(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-t', String(seconds), '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(30 * gopSeconds), '-keyint_min', String(30 * gopSeconds), '-sc_threshold', '0', '-c:a', 'aac',
      '-f', 'hls', '-hls_segment_type', 'fmp4', '-hls_time', String(segmentSeconds), '-hls_playlist_type', 'vod', '-hls_fmp4_init_filename', 'source-i0.mp4',
      '-hls_segment_filename', join(dir, 'source-%d.m4s'), '-hls_flags', independent ? 'program_date_time+independent_segments' : 'program_date_time+split_by_time', join(dir, 'source.m3u8')],
    { cwd: dir },
  );
  return dir;
}

/** Copies an encoded rendition into `<root>/recordings/<broadcastId>/` with a manifest. @returns the directory. */
export async function layRecording(
  root: string,
  rendition: string,
  manifest: Omit<RecordingManifest, 'version' | 'renditions' | 'keep'> & { keep?: boolean },
): Promise<string> {
  const dir = join(root, 'recordings', manifest.broadcastId);
  await mkdir(dir, { recursive: true });
  for (const f of await readdir(rendition)) await cp(join(rendition, f), join(dir, f));
  await writeFile(
    join(dir, VOD_MULTIVARIANT_PLAYLIST),
    '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=600000,CODECS="avc1.42c00d,mp4a.40.2",RESOLUTION=320x180\nsource.m3u8\n',
  );
  const full: RecordingManifest = { version: 1, keep: true, ...manifest, renditions: [{ name: 'source', bandwidth: 600_000 }] };
  await writeFile(join(dir, RECORDING_MANIFEST_FILE), JSON.stringify(full));
  return dir;
}

/** Duration of a media file (ffprobe's format duration), seconds. */
export async function probeSeconds(file: string): Promise<number> {
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=noprint_wrappers=1:nokey=1', file]);
  return Number(stdout.trim());
}

/** Media info of the fixture's broadcasts (`ingest.broadcast-start`). */
export const media = { videoCodec: 'h264', audioCodec: 'aac', width: 320, height: 180, frameRate: 30, videoBitrateKbps: 500, audioSampleRate: 48000, audioChannels: 2 };

/** The body the ingest sends once `broadcastId`'s recording is complete. */
export function recordedBody(channelId: string, broadcastId: string): BroadcastRecordedRequest {
  return {
    channelId,
    broadcastId,
    durationMs: 30_000,
    bytes: 1_000_000,
    renditions: [{ name: 'source', codecs: 'avc1.42c00d,mp4a.40.2', width: 320, height: 180, frameRate: 30, bandwidth: 600_000, averageBandwidth: 500_000, segments: 15, bytes: 1_000_000 }],
    timeline: [{ offsetMs: 0, programDateTimeMs: Date.parse('2026-12-01T20:00:00Z'), durationMs: 30_000 }],
    thumbnail: false,
  };
}

/** Starts, ends and records a broadcast of `channelId` over NATS (as the ingest does). */
export async function recordBroadcast(h: Harness, channelId: string, broadcastId = randomUUID()): Promise<string> {
  assert.equal((await h.request<{ ok: boolean }>(CommandPatterns.BroadcastStart, { channelId, broadcastId, media })).ok, true);
  assert.deepEqual(await h.request(CommandPatterns.BroadcastEnd, { channelId, broadcastId, reason: 'unpublished' }), { ok: true });
  const r = await h.request<{ ok: boolean; position: string | null }>(CommandPatterns.BroadcastRecorded, recordedBody(channelId, broadcastId));
  assert.equal(r.ok, true, JSON.stringify(r));
  return broadcastId;
}
