/// <reference types="node" />
/**
 * The recording contracts: the media timeline maps wall-clock instants onto media time and back across
 * discontinuities, `?t=` start times read and write the Twitch/YouTube grammar, and recording file names parse only
 * within their grammar.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClipRequestSchema, formatStartTime, mediaOffsetAt, parseStartTime, parseVodFileName, wallClockAt, type TimelineRun } from './vod.js';

// Two runs: 0–10 s shows wall 1000–11000; the publisher reconnected, 10–30 s shows wall 20000–40000.
const timeline: TimelineRun[] = [
  { offsetMs: 0, programDateTimeMs: 1_000, durationMs: 10_000 },
  { offsetMs: 10_000, programDateTimeMs: 20_000, durationMs: 20_000 },
];

void describe('media timeline', () => {
  void it('maps wall-clock instants onto media time, through gaps and past the ends', () => {
    assert.equal(mediaOffsetAt(timeline, 0), 0);
    assert.equal(mediaOffsetAt(timeline, 1_000), 0);
    assert.equal(mediaOffsetAt(timeline, 6_500), 5_500);
    assert.equal(mediaOffsetAt(timeline, 15_000), 10_000, 'in the gap: the start of the next run');
    assert.equal(mediaOffsetAt(timeline, 25_000), 15_000);
    assert.equal(mediaOffsetAt(timeline, 99_000), 30_000);
    assert.equal(mediaOffsetAt([], 5), 0);
  });
  void it('maps media time back onto wall-clock time', () => {
    assert.equal(wallClockAt(timeline, 0), 1_000);
    assert.equal(wallClockAt(timeline, 5_500), 6_500);
    assert.equal(wallClockAt(timeline, 15_000), 25_000);
    assert.equal(wallClockAt(timeline, 31_000), 40_000);
    assert.equal(wallClockAt([], 5), null);
    for (const wall of [1_000, 4_321, 20_000, 39_999]) assert.equal(wallClockAt(timeline, mediaOffsetAt(timeline, wall)), wall);
  });
});

void describe('?t= start times', () => {
  void it('reads h/m/s and bare seconds, refuses the rest', () => {
    assert.equal(parseStartTime('1h2m3s'), 3723);
    assert.equal(parseStartTime('90s'), 90);
    assert.equal(parseStartTime('2m'), 120);
    assert.equal(parseStartTime('1h'), 3600);
    assert.equal(parseStartTime('3723'), 3723);
    for (const bad of [null, undefined, '', 'h', '1x', '-5', '1.5', '1h2m3s4', '9'.repeat(40), '1s2m']) assert.equal(parseStartTime(bad), null, String(bad));
  });
  void it('writes what it reads', () => {
    assert.equal(formatStartTime(3723), '1h2m3s');
    assert.equal(formatStartTime(62), '1m2s');
    assert.equal(formatStartTime(3600), '1h');
    assert.equal(formatStartTime(0), '0s');
    for (const s of [0, 1, 59, 60, 61, 3599, 3600, 3661, 86399]) assert.equal(parseStartTime(formatStartTime(s)), s);
  });
});

void describe('recording files and clip requests', () => {
  void it('parses recording file names within the grammar only', () => {
    assert.deepEqual(parseVodFileName('index.m3u8'), { kind: 'multivariant' });
    assert.deepEqual(parseVodFileName('source.m3u8'), { kind: 'media-playlist', rendition: 'source' });
    assert.deepEqual(parseVodFileName('720p-i2.mp4'), { kind: 'init', rendition: '720p', gen: 2 });
    assert.deepEqual(parseVodFileName('source-17.m4s'), { kind: 'segment', rendition: 'source', msn: 17 });
    for (const bad of ['manifest.json', '../x.m3u8', 'source-p3.m4s', 'Source.m3u8', 'source-1e3.m4s', 'source-1.m4s/..']) assert.equal(parseVodFileName(bad), null, bad);
  });
  void it('bounds clip durations and titles', () => {
    const id = '00000000-0000-4000-8000-000000000000';
    assert.ok(createClipRequestSchema.safeParse({ broadcastId: id, title: 'nice', durationSeconds: 10 }).success);
    assert.ok(!createClipRequestSchema.safeParse({ broadcastId: id, title: 'nice', durationSeconds: 4 }).success);
    assert.ok(!createClipRequestSchema.safeParse({ broadcastId: id, title: 'nice', durationSeconds: 61 }).success);
    assert.ok(!createClipRequestSchema.safeParse({ broadcastId: id, title: '  ', durationSeconds: 10 }).success);
    assert.ok(!createClipRequestSchema.safeParse({ broadcastId: id, title: 'x', durationSeconds: 10, extra: 1 }).success);
  });
});
