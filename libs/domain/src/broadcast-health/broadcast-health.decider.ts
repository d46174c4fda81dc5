/**
 * The stream health of one broadcast (stream `health-<broadcastId>`, issue 10 item 5): samples of the publisher's
 * input taken by the ingest. The command side passes the channel's live broadcast (from the `broadcast-<channelId>`
 * aggregate) with every command, so:
 * - a sample is recorded only while its broadcast is the live one (`not_live` otherwise);
 * - a sample closer than half a sampling interval to the previous one, or older than it, is a no-op (a retried
 *   request, or a second ingest node sampling the same broadcast), so the stream holds at most two samples per
 *   interval;
 * - the warnings are recomputed here with `streamHealthWarnings` of @eventcast/contracts from the sample's own numbers:
 *   the one rule decides them, whatever the sender put in the list.
 */
import { streamHealthWarnings } from '@eventcast/contracts';
import type { EventData } from '@eventcast/events';
import { assertNever, DomainError, type Decider, type EventOf } from '../decider.js';

export type BroadcastHealthCommand = {
  type: 'RecordHealthSample';
  /** The channel's live broadcast now (null when it is not live). */
  liveBroadcastId: string | null;
  sample: EventData<'BroadcastHealthSampled'>;
};

export type BroadcastHealthEvent = EventOf<'BroadcastHealthSampled'>;

/** Time of the last sample (epoch ms, null before the first) and the number of samples. */
export interface BroadcastHealthState {
  lastSampledAtMs: number | null;
  samples: number;
}

/** Decider of a broadcast's health samples. Error: `not_live`. */
export const broadcastHealthDecider: Decider<BroadcastHealthCommand, BroadcastHealthEvent, BroadcastHealthState> = {
  initialState: () => ({ lastSampledAtMs: null, samples: 0 }),

  decide(command, state) {
    switch (command.type) {
      case 'RecordHealthSample': {
        const { sample, liveBroadcastId } = command;
        if (liveBroadcastId !== sample.broadcastId) throw new DomainError('not_live', `broadcast ${sample.broadcastId} is not live`);
        const at = Date.parse(sample.sampledAt);
        if (state.lastSampledAtMs !== null && at < state.lastSampledAtMs + (sample.intervalSeconds * 1000) / 2) return [];
        return [{ type: 'BroadcastHealthSampled', data: { ...sample, warnings: streamHealthWarnings(sample) } }];
      }
      default:
        return assertNever(command.type);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'BroadcastHealthSampled':
        return { lastSampledAtMs: Date.parse(event.data.sampledAt), samples: state.samples + 1 };
      default:
        return assertNever(event.type);
    }
  },
};
