import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clipDecider, type ClipEvent } from './clip.decider.js';
import { specFor } from '../specification.js';

const spec = specFor(clipDecider, assert.deepStrictEqual);
const clipId = 'c0000000-0000-4000-8000-000000000001';
const channelId = '6c1f0c6e-3b7a-4d8e-9a51-0b5a6f1d2c3e';
const viewer = 'a0000000-0000-4000-8000-000000000009';
const clip = {
  clipId,
  channelId,
  username: 'alice',
  broadcastId: 'b0000000-0000-4000-8000-000000000001',
  createdBy: viewer,
  createdByName: 'bob',
  title: 'What a save',
  startOffsetMs: 60_000,
  durationMs: 10_000,
  startedAt: '2026-11-22T20:01:00.000Z',
  fromLive: false,
  bytes: 1_234_567,
};
const created: ClipEvent = { type: 'ClipCreated', data: clip };
const deleted: ClipEvent = { type: 'ClipDeleted', data: { clipId, channelId, deletedBy: viewer, reason: 'owner' } };

describe('clip decider', () => {
  it('creates a clip on a new stream only', () => {
    spec.given([]).when({ type: 'CreateClip', clip }).then([created]);
    spec.given([created]).when({ type: 'CreateClip', clip }).thenThrows('clip_exists');
    spec.given([created, deleted]).when({ type: 'CreateClip', clip }).thenThrows('clip_exists');
  });

  it('deletes a clip once, naming who and why', () => {
    spec.given([created]).when({ type: 'DeleteClip', deletedBy: viewer, reason: 'owner' }).then([deleted]);
    spec
      .given([created])
      .when({ type: 'DeleteClip', deletedBy: null, reason: 'retention' })
      .then([{ type: 'ClipDeleted', data: { clipId, channelId, deletedBy: null, reason: 'retention' } }]);
  });

  it('refuses to delete an absent or already deleted clip', () => {
    spec.given([]).when({ type: 'DeleteClip', deletedBy: viewer, reason: 'owner' }).thenThrows('clip_not_found');
    spec.given([created, deleted]).when({ type: 'DeleteClip', deletedBy: viewer, reason: 'owner' }).thenThrows('clip_not_found');
  });
});
