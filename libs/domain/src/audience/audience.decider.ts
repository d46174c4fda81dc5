/**
 * The audience of one broadcast (stream `audience-<broadcastId>`): viewer-count samples and the set of viewer keys
 * seen, for analytics. The command side decides these only for the channel's live broadcast (it checks the
 * `broadcast-<channelId>` aggregate first); this decider keeps the stream free of duplicates:
 * - a viewer key is recorded once per broadcast (`ViewerJoinedBroadcast`); repeats are no-ops;
 * - a sample closer than half a sampling interval to the previous one, or older than it, is a no-op, so two realtime
 *   edges that both sampled the same period (their Redis lock lost or expired) record one sample.
 */
import type { EventData } from '@eventcast/events';
import { assertNever, DomainError, type Decider, type EventOf } from '../decider.js';
import { emptyIdSet, idSetAdd, idSetHas, type IdSet } from '../chat/id-set.js';

export type AudienceCommand =
  | { type: 'RecordViewers'; broadcastId: string; channelId: string; viewerKeys: readonly string[] }
  | { type: 'RecordSample'; sample: EventData<'BroadcastViewersSampled'> };

export type AudienceEvent = EventOf<'BroadcastViewersSampled' | 'ViewerJoinedBroadcast'>;

/** Viewer keys seen and the time of the last sample (epoch ms, null before the first). */
export interface AudienceState {
  viewers: IdSet;
  lastSampledAtMs: number | null;
}

/** Decider of a broadcast's audience. Error: `invalid_sample` (more chatters than viewers). */
export const audienceDecider: Decider<AudienceCommand, AudienceEvent, AudienceState> = {
  initialState: () => ({ viewers: emptyIdSet, lastSampledAtMs: null }),

  decide(command, state) {
    switch (command.type) {
      case 'RecordViewers': {
        const { broadcastId, channelId } = command;
        const seen = new Set<string>();
        const events: AudienceEvent[] = [];
        for (const viewerKey of command.viewerKeys) {
          if (seen.has(viewerKey) || idSetHas(state.viewers, viewerKey)) continue;
          seen.add(viewerKey);
          events.push({ type: 'ViewerJoinedBroadcast', data: { broadcastId, channelId, viewerKey } });
        }
        return events;
      }
      case 'RecordSample': {
        const { sample } = command;
        if (sample.chatters > sample.viewers) throw new DomainError('invalid_sample', 'a sample cannot have more chatters than viewers');
        const at = Date.parse(sample.sampledAt);
        if (state.lastSampledAtMs !== null && at < state.lastSampledAtMs + (sample.intervalSeconds * 1000) / 2) return [];
        return [{ type: 'BroadcastViewersSampled', data: sample }];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ViewerJoinedBroadcast':
        return { ...state, viewers: idSetAdd(state.viewers, event.data.viewerKey) };
      case 'BroadcastViewersSampled':
        return { ...state, lastSampledAtMs: Date.parse(event.data.sampledAt) };
      default:
        return assertNever(event);
    }
  },
};
