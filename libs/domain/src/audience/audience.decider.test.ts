import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { specFor } from '../specification.js';
import { audienceDecider, type AudienceEvent } from './audience.decider.js';

const spec = specFor(audienceDecider, assert.deepStrictEqual);
const broadcastId = '00000000-0000-4000-8000-0000000000b1';
const channelId = '00000000-0000-4000-8000-0000000000c1';
const alice = 'account:00000000-0000-4000-8000-000000000001';
const guest = 'guest:0123456789abcdef0123456789abcdef';
const joined = (viewerKey: string): AudienceEvent => ({ type: 'ViewerJoinedBroadcast', data: { broadcastId, channelId, viewerKey } });
const sample = (sampledAt: string, viewers = 10, chatters = 3) => ({ broadcastId, channelId, viewers, chatters, sampledAt, intervalSeconds: 15 });
const sampled = (sampledAt: string): AudienceEvent => ({ type: 'BroadcastViewersSampled', data: sample(sampledAt) });

describe('audience decider', () => {
  it('records each viewer key once per broadcast, also within one command', () => {
    spec.given([]).when({ type: 'RecordViewers', broadcastId, channelId, viewerKeys: [alice, guest, alice] }).then([joined(alice), joined(guest)]);
    spec.given([joined(alice)]).when({ type: 'RecordViewers', broadcastId, channelId, viewerKeys: [alice, guest] }).then([joined(guest)]);
    spec.given([joined(alice), joined(guest)]).when({ type: 'RecordViewers', broadcastId, channelId, viewerKeys: [guest] }).then([]);
  });

  it('records a sample, drops one within half an interval of the previous or older than it', () => {
    spec.given([]).when({ type: 'RecordSample', sample: sample('2026-11-22T12:00:00.000Z') }).then([sampled('2026-11-22T12:00:00.000Z')]);
    spec.given([sampled('2026-11-22T12:00:00.000Z')]).when({ type: 'RecordSample', sample: sample('2026-11-22T12:00:07.000Z') }).then([]);
    spec.given([sampled('2026-11-22T12:00:00.000Z')]).when({ type: 'RecordSample', sample: sample('2026-11-22T11:59:50.000Z') }).then([]);
    spec.given([sampled('2026-11-22T12:00:00.000Z')]).when({ type: 'RecordSample', sample: sample('2026-11-22T12:00:15.000Z') }).then([sampled('2026-11-22T12:00:15.000Z')]);
  });

  it('refuses more chatters than viewers', () => {
    spec.given([]).when({ type: 'RecordSample', sample: sample('2026-11-22T12:00:00.000Z', 1, 2) }).thenThrows('invalid_sample');
  });
});
