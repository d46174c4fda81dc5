/**
 * The wall-clock window of a chat replay page: exact within the media, widened by a VOD's broadcast bounds to the
 * chat sent before the first picture (at media time 0) and in the reconnect grace period after the last one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TimelineRun } from '@eventcast/contracts';
import { wallWindow } from './replay.js';

const timeline: TimelineRun[] = [
  { offsetMs: 0, programDateTimeMs: 10_000, durationMs: 100_000 },
  { offsetMs: 100_000, programDateTimeMs: 130_000, durationMs: 50_000 },
];

test('within the media: the instant shown at the start, the end of the last run', () => {
  assert.deepEqual(wallWindow(timeline, 0), { fromWall: 10_000, endWall: 180_000 });
  assert.deepEqual(wallWindow(timeline, 40_000), { fromWall: 50_000, endWall: 180_000 });
  assert.deepEqual(wallWindow(timeline, 100_000), { fromWall: 110_000, endWall: 180_000 }, 'a run start: from the end of the gap before it');
  assert.deepEqual(wallWindow(timeline, 120_000), { fromWall: 150_000, endWall: 180_000 });
  assert.equal(wallWindow([], 0), null);
});

test("a VOD's bounds: the chat before the first picture from 0, the grace period's after the last", () => {
  const bounds = { startWallMs: 8_500, endWallMs: 183_000 };
  assert.deepEqual(wallWindow(timeline, 0, bounds), { fromWall: 8_500, endWall: 183_001 });
  assert.deepEqual(wallWindow(timeline, 40_000, bounds), { fromWall: 50_000, endWall: 183_001 }, 'a seek inside the media is unchanged');
  assert.deepEqual(wallWindow(timeline, 150_000, bounds), { fromWall: 180_000, endWall: 183_001 }, 'from the end: the grace period');
  assert.deepEqual(wallWindow(timeline, 0, { startWallMs: 12_000, endWallMs: 170_000 }), { fromWall: 10_000, endWall: 180_000 }, 'bounds never narrow the media');
});
