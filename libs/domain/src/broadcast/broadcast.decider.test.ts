import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { broadcastDecider, type BroadcastCommand, type BroadcastEvent } from './broadcast.decider.js';
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

  describe('recordings', () => {
    const rendition = { name: 'source', codecs: 'avc1.64001f,mp4a.40.2', width: 1280, height: 720, frameRate: 30, bandwidth: 3_000_000, averageBandwidth: 2_500_000, segments: 900, bytes: 560_000_000 };
    const timeline = [{ offsetMs: 0, programDateTimeMs: t0.getTime(), durationMs: 1_800_000 }];
    const record: BroadcastCommand = { type: 'RecordBroadcast', broadcastId: b1, durationMs: 1_800_000, bytes: 560_000_000, renditions: [rendition], timeline, thumbnail: true, now: t1 };
    const recorded: BroadcastEvent = {
      type: 'BroadcastRecorded',
      data: { broadcastId: b1, channelId, username: 'alice', durationMs: 1_800_000, bytes: 560_000_000, renditions: [rendition], timeline, thumbnail: true, recordedAt: t1.toISOString() },
    };
    const deleted: BroadcastEvent = {
      type: 'BroadcastRecordingDeleted',
      data: { broadcastId: b1, channelId, reason: 'owner', deletedBy: channelId, bytesFreed: 560_000_000 },
    };

    it('records a broadcast that started on the channel, once', () => {
      spec.given([started, ended]).when(record).then([recorded]);
      spec.given([started, ended, recorded]).when(record).then([]);
      spec.given([started, ended, recorded, deleted]).when(record).then([]);
    });

    it('refuses to record a broadcast that never started on the channel', () => {
      spec.given([]).when(record).thenThrows('broadcast_not_found');
      spec.given([started, ended]).when({ ...record, broadcastId: b2 }).thenThrows('broadcast_not_found');
    });

    it('deletes a recorded VOD once, with the reason and the bytes freed', () => {
      spec.given([started, ended, recorded]).when({ type: 'DeleteRecording', broadcastId: b1, reason: 'owner', deletedBy: channelId, bytesFreed: 560_000_000 }).then([deleted]);
      spec
        .given([started, ended, recorded])
        .when({ type: 'DeleteRecording', broadcastId: b1, reason: 'retention', deletedBy: null, bytesFreed: 7 })
        .then([{ type: 'BroadcastRecordingDeleted', data: { broadcastId: b1, channelId, reason: 'retention', deletedBy: null, bytesFreed: 7 } }]);
    });

    it('refuses to delete a recording that is not a VOD: never recorded, unknown, or already deleted', () => {
      const del = { type: 'DeleteRecording', broadcastId: b1, reason: 'owner', deletedBy: channelId, bytesFreed: 0 } as const;
      spec.given([started, ended]).when(del).thenThrows('recording_not_found');
      spec.given([]).when(del).thenThrows('recording_not_found');
      spec.given([started, ended, recorded, deleted]).when(del).thenThrows('recording_not_found');
      spec.given([started, ended, recorded]).when({ ...del, broadcastId: b2 }).thenThrows('recording_not_found');
    });

    it('keeps the live broadcast rules while recordings come and go', () => {
      spec
        .given([started, ended, recorded, deleted])
        .when({ type: 'StartBroadcast', broadcastId: b2, channelId, username: 'alice', media, now: t1 })
        .then([{ type: 'BroadcastStarted', data: { broadcastId: b2, channelId, username: 'alice', startedAt: t1.toISOString(), media } }]);
    });
  });
});
