import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RESTREAM_TARGETS_PER_CHANNEL } from '@eventcast/events';
import { specFor } from '../specification.js';
import { restreamDecider, type RestreamEvent } from './restream.decider.js';

const spec = specFor(restreamDecider, assert.deepStrictEqual);
const channelId = '00000000-0000-4000-8000-000000000001';
const targetId = '00000000-0000-4000-8000-0000000000c1';
const broadcastId = '00000000-0000-4000-8000-0000000000d1';
const id = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const add = { type: 'AddRestreamTarget' as const, channelId, targetId, name: 'YouTube', url: 'rtmp://a.rtmp.youtube.com/live2', keyCiphertext: 'iv.tag.ciphertext' };
const added: RestreamEvent = { type: 'RestreamTargetAdded', data: { channelId, targetId, name: 'YouTube', url: 'rtmp://a.rtmp.youtube.com/live2', keyCiphertext: 'iv.tag.ciphertext' } };
const now = new Date('2026-12-07T04:00:00.000Z');

describe('restream decider', () => {
  it('adds a target (enabled), refuses a reused id and more than the cap', () => {
    spec.given([]).when(add).then([added]);
    spec.given([added]).when(add).thenThrows('restream_target_exists');
    const many: RestreamEvent[] = Array.from({ length: MAX_RESTREAM_TARGETS_PER_CHANNEL }, (_, i) => ({ ...added, data: { ...added.data, targetId: id(100 + i) } }));
    spec.given(many).when(add).thenThrows('too_many_restream_targets');
    spec.given([...many, { type: 'RestreamTargetRemoved', data: { channelId, targetId: id(100) } }]).when(add).then([added]);
  });

  it('disables, enables (no-ops record nothing) and removes; unknown targets are refused', () => {
    const disabled: RestreamEvent = { type: 'RestreamTargetDisabled', data: { channelId, targetId } };
    spec.given([added]).when({ type: 'DisableRestreamTarget', channelId, targetId }).then([disabled]);
    spec.given([added, disabled]).when({ type: 'DisableRestreamTarget', channelId, targetId }).then([]);
    spec.given([added, disabled]).when({ type: 'EnableRestreamTarget', channelId, targetId }).then([{ type: 'RestreamTargetEnabled', data: { channelId, targetId } }]);
    spec.given([added]).when({ type: 'EnableRestreamTarget', channelId, targetId }).then([]);
    const removed: RestreamEvent = { type: 'RestreamTargetRemoved', data: { channelId, targetId } };
    spec.given([added]).when({ type: 'RemoveRestreamTarget', channelId, targetId }).then([removed]);
    spec.given([added, removed]).when({ type: 'RemoveRestreamTarget', channelId, targetId }).thenThrows('restream_target_not_found');
    spec.given([added, removed]).when({ type: 'EnableRestreamTarget', channelId, targetId }).thenThrows('restream_target_not_found');
  });

  it('records state changes, not repeats; reports for removed targets or a broadcast that is not live are ignored', () => {
    const report = { type: 'ReportRestreamState' as const, channelId, targetId, broadcastId, liveBroadcastId: broadcastId, state: 'failed' as const, reason: 'Connection refused', now };
    const failed: RestreamEvent = { type: 'RestreamTargetStateChanged', data: { channelId, targetId, broadcastId, state: 'failed', reason: 'Connection refused', at: now.toISOString() } };
    spec.given([added]).when(report).then([failed]);
    spec.given([added, failed]).when(report).then([]);
    spec.given([added, failed]).when({ ...report, state: 'retrying' }).then([{ ...failed, data: { ...failed.data, state: 'retrying' } }]);
    spec.given([added, failed]).when({ ...report, broadcastId: id(5), liveBroadcastId: id(5) }).then([{ ...failed, data: { ...failed.data, broadcastId: id(5) } }]);
    spec.given([added, failed]).when({ ...report, broadcastId: id(5) }).then([]);
    spec.given([added]).when({ ...report, liveBroadcastId: null }).then([]);
    // `stopped` closing the broadcast the target last reported still counts after that broadcast ended; not another one's.
    const stopped = { ...report, state: 'stopped' as const, reason: null, liveBroadcastId: null };
    spec.given([added, failed]).when(stopped).then([{ ...failed, data: { ...failed.data, state: 'stopped', reason: null } }]);
    spec.given([added, failed]).when({ ...stopped, broadcastId: id(6) }).then([]);
    spec.given([added]).when(stopped).then([]);
    spec.given([added, { type: 'RestreamTargetRemoved', data: { channelId, targetId } }]).when(report).then([]);
  });
});
