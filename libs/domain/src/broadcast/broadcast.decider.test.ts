import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { broadcastDecider, type BroadcastEvent } from './broadcast.decider.js';
import { specFor } from '../specification.js';

const spec = specFor(broadcastDecider, assert.deepStrictEqual);
const channelId = '6c1f0c6e-3b7a-4d8e-9a51-0b5a6f1d2c3e';
const b1 = 'b0000000-0000-4000-8000-000000000001';
const b2 = 'b0000000-0000-4000-8000-000000000002';
const media = { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, frameRate: 30, videoBitrateKbps: 2500, audioSampleRate: 48000, audioChannels: 2 };
const t0 = new Date('2026-11-22T20:00:00.000Z');
const t1 = new Date('2026-11-22T20:30:00.000Z');
const started: BroadcastEvent = { type: 'BroadcastStarted', data: { broadcastId: b1, channelId, username: 'alice', startedAt: t0.toISOString(), media } };
const ended: BroadcastEvent = {
  type: 'BroadcastEnded',
  data: { broadcastId: b1, channelId, username: 'alice', reason: 'unpublished', endedAt: t1.toISOString(), durationMs: 1_800_000 },
};

describe('broadcast decider', () => {
  it('starts a broadcast on an offline channel', () => {
    spec.given([]).when({ type: 'StartBroadcast', broadcastId: b1, channelId, username: 'alice', media, now: t0 }).then([started]);
  });

  it('refuses a second broadcast while one is live', () => {
    spec.given([started]).when({ type: 'StartBroadcast', broadcastId: b2, channelId, username: 'alice', media, now: t1 }).thenThrows('already_live');
  });

  it('treats a repeated start of the live broadcast as a no-op', () => {
    spec.given([started]).when({ type: 'StartBroadcast', broadcastId: b1, channelId, username: 'alice', media, now: t1 }).then([]);
  });

  it('ends the live broadcast with its duration in milliseconds', () => {
    spec.given([started]).when({ type: 'EndBroadcast', broadcastId: b1, reason: 'unpublished', now: t1 }).then([ended]);
  });

  it('makes ending a broadcast that is not live a domain error', () => {
    spec.given([]).when({ type: 'EndBroadcast', broadcastId: b1, reason: 'unpublished', now: t1 }).thenThrows('not_live');
    spec.given([started, ended]).when({ type: 'EndBroadcast', broadcastId: b1, reason: 'unpublished', now: t1 }).thenThrows('not_live');
    spec.given([started]).when({ type: 'EndBroadcast', broadcastId: b2, reason: 'unpublished', now: t1 }).thenThrows('broadcast_mismatch');
  });

  it('ends whatever is live when an ingest restarts, and nothing when offline', () => {
    spec
      .given([started])
      .when({ type: 'EndLiveBroadcast', reason: 'ingest_restart', now: t1 })
      .then([{ type: 'BroadcastEnded', data: { ...ended.data, reason: 'ingest_restart' } }]);
    spec.given([]).when({ type: 'EndLiveBroadcast', reason: 'ingest_restart', now: t1 }).then([]);
  });

  it('allows a new broadcast after the previous one ended', () => {
    spec
      .given([started, ended])
      .when({ type: 'StartBroadcast', broadcastId: b2, channelId, username: 'alice', media, now: t1 })
      .then([{ type: 'BroadcastStarted', data: { broadcastId: b2, channelId, username: 'alice', startedAt: t1.toISOString(), media } }]);
  });
});
