import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EventData } from '@eventcast/events';
import { specFor } from '../specification.js';
import { broadcastHealthDecider, type BroadcastHealthEvent } from './broadcast-health.decider.js';

const spec = specFor(broadcastHealthDecider, assert.deepStrictEqual);
const broadcastId = '00000000-0000-4000-8000-0000000000b1';
const channelId = '00000000-0000-4000-8000-0000000000c1';
const sample = (sampledAt: string, over: Partial<EventData<'BroadcastHealthSampled'>> = {}): EventData<'BroadcastHealthSampled'> => ({
  channelId, broadcastId, sampledAt, intervalSeconds: 10, windowSeconds: 5, bitrateKbps: 1200, videoBitrateKbps: 1100,
  audioBitrateKbps: 100, fps: 30, keyframeIntervalSeconds: 2, maxKeyframeIntervalSeconds: 2, width: 640, height: 360,
  videoCodec: 'h264', audioCodec: 'aac', announcedVideoBitrateKbps: 1000, announcedFrameRate: 30,
  packager: { running: true, drops: 0, restarts: 0, mode: 'passthrough' }, warnings: [], ...over,
});
const sampled = (s: EventData<'BroadcastHealthSampled'>): BroadcastHealthEvent => ({ type: 'BroadcastHealthSampled', data: s });
const record = (s: EventData<'BroadcastHealthSampled'>, live: string | null = broadcastId) => ({ type: 'RecordHealthSample' as const, liveBroadcastId: live, sample: s });

describe('broadcast health decider', () => {
  it('records a sample of the live broadcast', () => {
    const s = sample('2026-12-07T12:00:00.000Z');
    spec.given([]).when(record(s)).then([sampled(s)]);
  });

  it('refuses a sample when the broadcast is not the live one', () => {
    spec.given([]).when(record(sample('2026-12-07T12:00:00.000Z'), null)).thenThrows('not_live');
    spec.given([]).when(record(sample('2026-12-07T12:00:00.000Z'), '00000000-0000-4000-8000-0000000000b2')).thenThrows('not_live');
  });

  it('drops a sample within half an interval of the previous one or older than it', () => {
    const first = sample('2026-12-07T12:00:00.000Z');
    spec.given([sampled(first)]).when(record(sample('2026-12-07T12:00:04.000Z'))).then([]);
    spec.given([sampled(first)]).when(record(sample('2026-12-07T11:59:50.000Z'))).then([]);
    const next = sample('2026-12-07T12:00:10.000Z');
    spec.given([sampled(first)]).when(record(next)).then([sampled(next)]);
  });

  it('decides the warnings itself from the numbers (the sender’s list is not trusted)', () => {
    const s = sample('2026-12-07T12:00:00.000Z', { maxKeyframeIntervalSeconds: 4, keyframeIntervalSeconds: 4, warnings: [{ code: 'audio_missing', measured: null, limit: null }] });
    spec.given([]).when(record(s)).then([sampled({ ...s, warnings: [{ code: 'keyframe_interval_high', measured: 4, limit: 2 }] })]);
  });
});
