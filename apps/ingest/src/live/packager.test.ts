/**
 * The LL-HLS packager end to end: a real ffmpeg publisher → the ingest's node-media-server (./nms.ts) → the
 * packager's ffmpeg → fMP4 parts on a recording media sink (test-support/recording-sink.ts). Media properties
 * (durations, keyframe positions, codecs) are asserted; wall-clock times are only logged (benchmarks hold targets).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@eventcast/platform';
import { createNms, type NmsServer } from '../nms.js';
import { freePort, publishTestStream, waitUntil, type Publisher, type TestStreamOptions } from '../test-support/harness.js';
import { RecordingChannelSink, type RecordingRenditionSink } from '../test-support/recording-sink.js';
import { checkMediaPlaylist } from '../test-support/ll-hls-rules.js';
import { parseInit } from './fmp4.js';
import type { MediaPart } from './media-sink.js';
import { LivePackager, ReencodeBudget, type SourceInfo } from './packager.js';
import { renderMediaPlaylist } from './playlist.js';
import { LiveMediaStore, advertisedPartTarget } from './store.js';

const log = createLogger('packager-test');
log.level = 'warn';
let nms: NmsServer;
let port: number;
const published = new Map<string, number>();
const running: { packager: LivePackager; publisher: Publisher }[] = [];

before(async () => {
  port = await freePort();
  const created = createNms('127.0.0.1', port, log);
  nms = created.nms;
  nms.on('postPublish', (s) => published.set(s.streamName, Date.now()));
  await created.listen();
});

after(async () => {
  for (const r of running) {
    r.publisher.child.kill('SIGKILL');
    await r.packager.stop();
  }
  await nms.stop();
});

/** Publishes `key` with `stream` options, starts a packager on it once NMS has the publish, returns both. */
async function packageStream(key: string, seconds: number, stream: TestStreamOptions, o: { renditions?: string[]; source?: SourceInfo; reencodeBudget?: ReencodeBudget; store?: LiveMediaStore } = {}) {
  const startedAt = Date.now();
  const publisher = publishTestStream(`rtmp://127.0.0.1:${port}/live/${key}`, seconds, stream);
  await waitUntil(`publish of ${key}`, () => (published.has(key) ? true : undefined), 10_000);
  const sink = new RecordingChannelSink();
  // Parts also go to a real live media store when the test asks for one (its playlists are checked).
  const stored = o.store?.open(key);
  const packager = new LivePackager({
    ffmpegPath: 'ffmpeg',
    inputUrl: `rtmp://127.0.0.1:${port}/live/${key}`,
    secret: key,
    partSeconds: 0.2,
    renditions: o.renditions ?? ['source'],
    keyframeFix: true,
    keyframeFixSeconds: 2,
    ...(o.reencodeBudget ? { reencodeBudget: o.reencodeBudget } : {}),
    source: () => o.source ?? { height: null, frameRate: null, videoKbps: null, audioKbps: null },
    sink: stored
      ? {
          rendition: (name) => {
            const a = sink.rendition(name);
            const b = stored.rendition(name);
            return { init: (i, d) => (a.init(i, d), b.init(i, d)), part: (p) => (a.part(p), b.part(p)) };
          },
          end: () => (sink.end(), stored.end()),
        }
      : sink,
    maxRestarts: 3,
    shouldRun: () => publisher.child.exitCode === null,
    log,
  });
  packager.ensureRunning();
  running.push({ packager, publisher });
  const spawnedAt = Date.now();
  void waitUntil('first part', () => (sink.rendition('source').parts.length > 0 ? true : undefined), 20_000).then(
    () => {
      const first = sink.rendition('source').events.find((e) => e.kind === 'part')!.at;
      log.warn({ key, publishToFirstPartMs: first - startedAt, packagerToFirstPartMs: first - spawnedAt }, 'measured');
    },
    () => undefined,
  );
  return { sink, packager, publisher };
}

/** Media times (s, from the first part given) at which independent parts start. */
function keyframeTimes(parts: readonly MediaPart[]): number[] {
  const out: number[] = [];
  let t = 0;
  for (const p of parts) {
    if (p.independent) out.push(Math.round(t * 100) / 100);
    t += p.durationSeconds;
  }
  return out;
}

/** The parts after the `n`-th init (0-based) of a rendition. */
function partsOfRun(r: RecordingRenditionSink, n: number): MediaPart[] {
  const starts = r.events.map((e, i) => (e.kind === 'init' ? i : -1)).filter((i) => i >= 0);
  const from = starts[n] ?? r.events.length;
  const to = starts[n + 1] ?? r.events.length;
  return r.events.slice(from, to).flatMap((e) => (e.kind === 'part' ? [e.part] : []));
}

function assertSteadyParts(parts: readonly MediaPart[], partSeconds: number): void {
  parts.slice(1).forEach((p, i) => assert.ok(p.durationSeconds > 0 && p.durationSeconds <= partSeconds + 1e-6, `part ${i + 1} lasts ${p.durationSeconds} s`));
  for (let i = 1; i < parts.length; i++) {
    const gap = parts[i]!.programDateTimeMs - parts[i - 1]!.programDateTimeMs;
    assert.ok(Math.abs(gap - parts[i - 1]!.durationSeconds * 1000) <= 2, `program date-time advances by the media duration (${gap} ms)`);
  }
}

void describe('LL-HLS packager (RTMP → fMP4 parts)', () => {
  void it('720p30 with a 1-s GOP: independent parts every second, a 360p step with aligned keyframes', async () => {
    const { sink, packager } = await packageStream('p720', 9, { size: '1280x720', fps: 30, keyframeEvery: 30, preset: 'ultrafast' }, {
      renditions: ['source', '720p', '360p'],
      source: { height: 720, frameRate: 30, videoKbps: 2000, audioKbps: 128 },
    });
    const source = sink.rendition('source');
    const low = sink.rendition('360p');
    await waitUntil('4 s of parts in both renditions', () => (source.parts.length >= 20 && low.parts.length >= 20 ? true : undefined), 30_000);
    assert.deepEqual([...sink.renditions.keys()].sort(), ['360p', 'source'], 'no 720p step from a 720p source (never upscale)');
    const [init] = source.inits;
    assert.equal(source.inits.length, 1);
    assert.match(init!.descriptor.codecs, /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    assert.deepEqual([init!.descriptor.width, init!.descriptor.height, init!.descriptor.transcoded], [1280, 720, false]);
    assert.deepEqual([low.inits[0]!.descriptor.width, low.inits[0]!.descriptor.height, low.inits[0]!.descriptor.transcoded], [640, 360, true]);
    const parts = source.parts.slice(0, 20);
    assert.equal(parts[0]!.independent, true, 'the first part starts with a keyframe');
    assertSteadyParts(parts, 0.2);
    const keys = keyframeTimes(parts);
    keys.slice(1).forEach((t, i) => assert.ok(Math.abs(t - keys[i]! - 1) < 0.05, `keyframes 1 s apart: ${keys.join(', ')}`));
    assert.ok(keys.length >= 3);
    // The encoded step's keyframes fall on the source's (-force_key_frames source), by decode time.
    const lowKeys = keyframeTimes(low.parts.slice(0, 20));
    assert.ok(lowKeys.length >= 3, `360p keyframes: ${lowKeys.join(', ')}`);
    const pdtKeys = (r: RecordingRenditionSink) => r.parts.filter((p) => p.independent).map((p) => p.programDateTimeMs);
    for (const t of pdtKeys(low).slice(1, 4)) assert.ok(pdtKeys(source).some((s) => Math.abs(s - t) <= 50), `360p keyframe at ${t} aligned with a source keyframe`);
    assert.equal(packager.status().mode, 'passthrough');
  });

  void it('1080p60 with a 2-s GOP and 48 kHz stereo (OBS-like) stays passthrough', async () => {
    const { sink, packager } = await packageStream('p1080', 6, { size: '1920x1080', fps: 60, keyframeEvery: 120, preset: 'ultrafast', audioRate: 48000, audioChannels: 2 });
    const source = sink.rendition('source');
    await waitUntil('3 s of parts', () => (source.parts.reduce((a, p) => a + p.durationSeconds, 0) >= 3 ? true : undefined), 30_000);
    const init = parseInit(source.inits[0]!.initSegment);
    // The AAC config and the track's timescale agree on 48 kHz (too short a probe keeps FLV's 44.1 kHz flag).
    assert.deepEqual([init.video?.width, init.video?.height, init.audio?.sampleRate, init.audio?.timescale, init.audio?.configSampleRate, init.audio?.channels], [1920, 1080, 48000, 48000, 48000, 2]);
    assert.equal(source.inits[0]!.descriptor.codecs, init.codecs);
    const parts = source.parts;
    assertSteadyParts(parts, 0.2);
    const keys = keyframeTimes(parts);
    assert.ok(keys.length >= 2, `keyframes: ${keys.join(', ')}`);
    keys.slice(1).forEach((t, i) => assert.ok(Math.abs(t - keys[i]! - 2) < 0.05, `keyframes 2 s apart: ${keys.join(', ')}`));
    assert.deepEqual([packager.status().mode, source.inits.length], ['passthrough', 1]);
  });

  void it('a 4-s GOP is re-encoded with 1-s keyframes as soon as 2 s pass without a keyframe', async () => {
    const { sink, packager } = await packageStream('p4s', 12, { fps: 30, keyframeEvery: 120, preset: 'ultrafast' });
    const source = sink.rendition('source');
    await waitUntil('3 s of re-encoded parts', () => (source.inits.length >= 2 && partsOfRun(source, 1).length >= 15 ? true : undefined), 30_000);
    const first = partsOfRun(source, 0);
    assert.ok(first.reduce((a, p) => a + p.durationSeconds, 0) <= 2.5, 'switched before the second source keyframe');
    const status = packager.status();
    assert.equal(status.mode, 'reencode');
    assert.match(status.modeReason ?? '', /keyframe interval above 2 s.*Keyframe Interval/);
    assert.equal(status.restarts, 0, 'the switch is not counted as a failure');
    assert.equal(source.inits[1]!.descriptor.transcoded, true);
    const parts = partsOfRun(source, 1).slice(0, 15);
    assert.equal(parts[0]!.independent, true);
    assertSteadyParts(parts, 0.2);
    const keys = keyframeTimes(parts);
    assert.ok(keys.length >= 3, `keyframes: ${keys.join(', ')}`);
    keys.slice(1).forEach((t, i) => assert.ok(Math.abs(t - keys[i]! - 1) < 0.05, `keyframes 1 s apart: ${keys.join(', ')}`));
  });

  void it('29.97 fps output in the live media store passes the LL-HLS rules (parts ≤ PART-TARGET)', async () => {
    const store = new LiveMediaStore({ segmentSeconds: 1, partTargetSeconds: advertisedPartTarget(0.2) });
    await packageStream('pntsc', 8, { fps: 29.97, keyframeEvery: 30, preset: 'ultrafast' }, { store });
    const r = () => store.channel('pntsc')?.renditions.get('source');
    await waitUntil('3 segments', () => ((r()?.segments.length ?? 0) >= 3 ? true : undefined), 30_000);
    const text = renderMediaPlaylist(r()!) ?? '';
    const { facts, violations } = checkMediaPlaylist(text);
    assert.deepEqual(violations, [], text);
    assert.equal(facts.partTarget, 0.234);
    const parts = [...facts.segments.flatMap((s) => s.parts), ...facts.openParts];
    assert.ok(parts.some((p) => p.duration > 0.2), `some real parts exceed the 0.2-s fragment duration: ${parts.map((p) => p.duration).join(', ')}`);
    assert.equal(r()!.oversizeParts, 0, 'no part above PART-TARGET since the start');
  });

  void it('parts without video (audio between sparse frames) do not count as time without a keyframe', async () => {
    // 0.5 fps, every frame a keyframe (a 2-s interval, within the threshold): between two frames ffmpeg writes
    // audio-only fragments, sent as parts of their own once five are held (./packager.ts MAX_HELD_FRAGMENTS).
    const { sink, packager } = await packageStream('psparse', 10, { fps: 0.5, keyframeEvery: 1, preset: 'ultrafast' });
    const source = sink.rendition('source');
    await waitUntil('6 s of parts', () => (source.parts.reduce((a, p) => a + p.durationSeconds, 0) >= 6 ? true : undefined), 30_000);
    const parts = source.parts;
    assert.ok(parts.some((p) => !p.independent), `audio-only parts were sent: ${parts.map((p) => `${p.durationSeconds}${p.independent ? 'K' : ''}`).join(' ')}`);
    assert.equal(packager.status().mode, 'passthrough', packager.status().modeReason ?? '');
    assert.equal(source.inits.length, 1);
  });

  void it('beyond the node\'s re-encode budget a 4-s GOP stays passthrough and the health says why', async () => {
    const budget = new ReencodeBudget(1);
    assert.equal(budget.tryAcquire(), true, 'another channel holds the only slot');
    const { sink, packager } = await packageStream('pbudget', 8, { fps: 30, keyframeEvery: 120, preset: 'ultrafast' }, { reencodeBudget: budget });
    const source = sink.rendition('source');
    await waitUntil('3 s of parts', () => (source.parts.reduce((a, p) => a + p.durationSeconds, 0) >= 3 ? true : undefined), 30_000);
    const status = packager.status();
    assert.equal(status.mode, 'passthrough');
    assert.match(status.modeReason ?? '', /INGEST_MAX_REENCODES.*Keyframe Interval/);
    assert.equal(source.inits.length, 1, 'no restart in re-encode mode');
    assert.equal(budget.active, 1);
    // The slot frees up: the next long keyframe interval takes it and re-encodes.
    budget.release();
    await waitUntil('re-encode after the slot freed', () => (packager.status().mode === 'reencode' ? true : undefined), 15_000);
    assert.equal(budget.active, 1, 'the channel holds the slot');
    await packager.stop();
    assert.equal(budget.active, 0, 'stopping gives the slot back');
  });

  void it('an ffmpeg killed mid-broadcast is restarted: a new init, then new parts; so is a new publisher session', async () => {
    const { sink, packager } = await packageStream('pkill', 15, { fps: 30, keyframeEvery: 30, preset: 'ultrafast' });
    const source = sink.rendition('source');
    await waitUntil('5 parts', () => (source.parts.length >= 5 ? true : undefined), 20_000);
    const pid = packager.pid;
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    await waitUntil('5 parts after a new init', () => (source.inits.length === 2 && partsOfRun(source, 1).length >= 5 ? true : undefined), 20_000);
    assert.notEqual(packager.pid, pid);
    assert.equal(packager.status().restarts, 1);
    assert.equal(packager.status().restartsTotal, 1);
    const again = partsOfRun(source, 1);
    assert.equal(again[0]!.independent, true, 'the new run starts at a keyframe (NMS GOP cache)');
    assert.ok(again[0]!.programDateTimeMs >= partsOfRun(source, 0).at(-1)!.programDateTimeMs, 'program date-time does not go back');
    // A reconnected encoder (new publisher session): a new run at once, a fresh restart budget, the same sink.
    const before = packager.pid;
    packager.newPublisher();
    assert.notEqual(packager.pid, before);
    assert.equal(packager.status().restarts, 0);
    assert.equal(packager.status().restartsTotal, 1, 'the broadcast total is kept across publisher sessions');
    await waitUntil('5 parts after a third init', () => (source.inits.length === 3 && partsOfRun(source, 2).length >= 5 ? true : undefined), 20_000);
    assert.equal(partsOfRun(source, 2)[0]!.independent, true);
    assert.equal(sink.ended, 0);
    await packager.finish();
    assert.equal(sink.ended, 1);
  });
});
