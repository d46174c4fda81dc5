/**
 * The broadcast aggregate of a channel (stream `broadcast-<channelId>`): the sequence of live sessions, at most one
 * live at a time. Each broadcast runs from publish (`BroadcastStarted`) to unpublish (`BroadcastEnded`).
 */
import type { MediaInfo } from '@eventcast/events';
import { assertNever, DomainError, type Decider, type EventOf } from '../decider.js';
import type { BroadcastEndReason } from '@eventcast/events';

export type BroadcastCommand =
  | { type: 'StartBroadcast'; broadcastId: string; channelId: string; username: string; media: MediaInfo; now: Date }
  | { type: 'EndBroadcast'; broadcastId: string; reason: BroadcastEndReason; now: Date }
  /** Ends whatever broadcast is live (an ingest restarted); a no-op when none is. */
  | { type: 'EndLiveBroadcast'; reason: BroadcastEndReason; now: Date };

export type BroadcastEvent = EventOf<'BroadcastStarted' | 'BroadcastEnded'>;

export interface BroadcastState {
  live: { broadcastId: string; channelId: string; username: string; startedAt: string } | null;
  /** Number of broadcasts ever started on the channel. */
  count: number;
}

function end(live: NonNullable<BroadcastState['live']>, reason: BroadcastEndReason, now: Date): BroadcastEvent {
  const durationMs = Math.max(0, now.getTime() - Date.parse(live.startedAt));
  return {
    type: 'BroadcastEnded',
    data: { broadcastId: live.broadcastId, channelId: live.channelId, username: live.username, reason, endedAt: now.toISOString(), durationMs },
  };
}

/**
 * Decider of a channel's broadcasts.
 * Errors: `already_live` (a different broadcast is live), `not_live` (nothing to end), `broadcast_mismatch`
 * (ending a broadcast that is not the live one). Starting the live broadcast again is idempotent (no events): ingest
 * may retry a request whose reply was lost.
 */
export const broadcastDecider: Decider<BroadcastCommand, BroadcastEvent, BroadcastState> = {
  initialState: () => ({ live: null, count: 0 }),

  decide(command, state) {
    switch (command.type) {
      case 'StartBroadcast': {
        if (state.live) {
          if (state.live.broadcastId === command.broadcastId) return [];
          throw new DomainError('already_live', 'the channel is already live with another broadcast');
        }
        const { broadcastId, channelId, username, media, now } = command;
        return [{ type: 'BroadcastStarted', data: { broadcastId, channelId, username, startedAt: now.toISOString(), media } }];
      }
      case 'EndBroadcast': {
        if (!state.live) throw new DomainError('not_live', 'the channel is not live');
        if (state.live.broadcastId !== command.broadcastId) {
          throw new DomainError('broadcast_mismatch', `broadcast ${command.broadcastId} is not the live broadcast`);
        }
        return [end(state.live, command.reason, command.now)];
      }
      case 'EndLiveBroadcast':
        return state.live ? [end(state.live, command.reason, command.now)] : [];
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'BroadcastStarted': {
        const { broadcastId, channelId, username, startedAt } = event.data;
        return { live: { broadcastId, channelId, username, startedAt }, count: state.count + 1 };
      }
      case 'BroadcastEnded':
        return { ...state, live: null };
      default:
        return assertNever(event);
    }
  },
};
