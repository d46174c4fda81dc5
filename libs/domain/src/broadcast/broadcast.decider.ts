/**
 * The broadcast aggregate of a channel (stream `broadcast-<channelId>`): the sequence of live sessions, at most one
 * live at a time. Each broadcast runs from publish (`BroadcastStarted`) to unpublish (`BroadcastEnded`). Its
 * recording (issue 11) becomes a VOD (`BroadcastRecorded`, reported by the ingest once complete in storage) and may
 * later be deleted (`BroadcastRecordingDeleted`: owner, admin, retention job, disk budget).
 */
import type { RecordedRendition, RecordingDeletionReason, TimelineRun } from '@eventcast/contracts';
import type { MediaInfo } from '@eventcast/events';
import { assertNever, DomainError, type Decider, type EventOf } from '../decider.js';
import type { BroadcastEndReason } from '@eventcast/events';

export type BroadcastCommand =
  | { type: 'StartBroadcast'; broadcastId: string; channelId: string; username: string; media: MediaInfo; now: Date }
  | { type: 'EndBroadcast'; broadcastId: string; reason: BroadcastEndReason; now: Date }
  /** Ends whatever broadcast is live (an ingest restarted); a no-op when none is. */
  | { type: 'EndLiveBroadcast'; reason: BroadcastEndReason; now: Date }
  /**
   * The ingest reports a broadcast's recording complete in storage (`ingest.broadcast-recorded`). Idempotent: a
   * broadcast already recorded (or whose recording was deleted since) records nothing.
   */
  | {
      type: 'RecordBroadcast';
      broadcastId: string;
      durationMs: number;
      bytes: number;
      renditions: RecordedRendition[];
      timeline: TimelineRun[];
      thumbnail: boolean;
      now: Date;
    }
  /** Deletes a VOD; `deletedBy` null for the retention job. `bytesFreed`: what its files take in storage. */
  | { type: 'DeleteRecording'; broadcastId: string; reason: RecordingDeletionReason; deletedBy: string | null; bytesFreed: number };

export type BroadcastEvent = EventOf<'BroadcastStarted' | 'BroadcastEnded' | 'BroadcastRecorded' | 'BroadcastRecordingDeleted'>;

/** What the aggregate remembers of one past or live broadcast of the channel. */
export interface BroadcastRecord {
  startedAt: string;
  /** ISO-8601; null while live. */
  endedAt: string | null;
  /** `none` until `BroadcastRecorded`; `deleted` after `BroadcastRecordingDeleted`. */
  recording: 'none' | 'recorded' | 'deleted';
  /** Bytes of the recording as recorded (0 before). */
  bytes: number;
}

export interface BroadcastState {
  live: { broadcastId: string; channelId: string; username: string; startedAt: string } | null;
  /** Number of broadcasts ever started on the channel. */
  count: number;
  /** Every broadcast ever started on the channel, by id (a few dozen bytes each). */
  broadcasts: ReadonlyMap<string, BroadcastRecord>;
  /** The channel's id and username, from its first broadcast (null before). */
  channel: { channelId: string; username: string } | null;
}

function withBroadcast(state: BroadcastState, broadcastId: string, patch: Partial<BroadcastRecord>): BroadcastState {
  const current = state.broadcasts.get(broadcastId);
  if (!current) return state;
  const broadcasts = new Map(state.broadcasts);
  broadcasts.set(broadcastId, { ...current, ...patch });
  return { ...state, broadcasts };
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
 * (ending a broadcast that is not the live one), `broadcast_not_found` (recording a broadcast that never started on
 * this channel), `recording_not_found` (deleting a recording that is not a VOD: never recorded or already deleted).
 * Starting the live broadcast again is idempotent (no events): ingest may retry a request whose reply was lost; so is
 * recording a broadcast again.
 */
export const broadcastDecider: Decider<BroadcastCommand, BroadcastEvent, BroadcastState> = {
  initialState: () => ({ live: null, count: 0, broadcasts: new Map(), channel: null }),

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
      case 'RecordBroadcast': {
        const b = state.broadcasts.get(command.broadcastId);
        if (!b || !state.channel) throw new DomainError('broadcast_not_found', `no broadcast ${command.broadcastId} on this channel`);
        if (b.recording !== 'none') return [];
        const { broadcastId, durationMs, bytes, renditions, timeline, thumbnail, now } = command;
        const { channelId, username } = state.channel;
        return [
          {
            type: 'BroadcastRecorded',
            data: { broadcastId, channelId, username, durationMs, bytes, renditions, timeline, thumbnail, recordedAt: now.toISOString() },
          },
        ];
      }
      case 'DeleteRecording': {
        const b = state.broadcasts.get(command.broadcastId);
        if (!b || b.recording !== 'recorded' || !state.channel) {
          throw new DomainError('recording_not_found', `broadcast ${command.broadcastId} has no recording to delete`);
        }
        const { broadcastId, reason, deletedBy, bytesFreed } = command;
        return [{ type: 'BroadcastRecordingDeleted', data: { broadcastId, channelId: state.channel.channelId, reason, deletedBy, bytesFreed } }];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'BroadcastStarted': {
        const { broadcastId, channelId, username, startedAt } = event.data;
        const broadcasts = new Map(state.broadcasts);
        broadcasts.set(broadcastId, { startedAt, endedAt: null, recording: 'none', bytes: 0 });
        return { live: { broadcastId, channelId, username, startedAt }, count: state.count + 1, broadcasts, channel: { channelId, username } };
      }
      case 'BroadcastEnded':
        return { ...withBroadcast(state, event.data.broadcastId, { endedAt: event.data.endedAt }), live: null };
      case 'BroadcastRecorded':
        return withBroadcast(state, event.data.broadcastId, { recording: 'recorded', bytes: event.data.bytes });
      case 'BroadcastRecordingDeleted':
        return withBroadcast(state, event.data.broadcastId, { recording: 'deleted' });
      default:
        return assertNever(event);
    }
  },
};
