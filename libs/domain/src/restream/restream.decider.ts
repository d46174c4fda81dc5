/**
 * A channel's restream targets (stream `restream-<channelId>`, issue 10 item 7): RTMP(S) services the ingest forwards
 * each broadcast to. The owner adds a target (name, server URL, stream key sealed by the caller), enables or disables
 * it, removes it; at most {@link MAX_RESTREAM_TARGETS_PER_CHANNEL}. The ingest reports each target's state during a
 * broadcast (connecting, live, failed with the reason, retrying, stopped); a report for a removed target, for a
 * broadcast other than the channel's live one (`liveBroadcastId`, read by the caller from `broadcast-<channelId>`, as
 * for broadcastHealthDecider; except `stopped` for the broadcast the target last reported, which may arrive just after
 * the broadcast ended), or one that repeats the current state and reason, records nothing. No I/O: URL validation and sealing are the caller's.
 */
import { MAX_RESTREAM_TARGETS_PER_CHANNEL, type RestreamTargetState } from '@eventcast/events';
import { assertNever, DomainError, type Decider, type EventOf } from '../decider.js';

export type RestreamCommand =
  | { type: 'AddRestreamTarget'; channelId: string; targetId: string; name: string; url: string; keyCiphertext: string }
  | { type: 'RemoveRestreamTarget'; channelId: string; targetId: string }
  | { type: 'EnableRestreamTarget'; channelId: string; targetId: string }
  | { type: 'DisableRestreamTarget'; channelId: string; targetId: string }
  | {
      type: 'ReportRestreamState';
      channelId: string;
      targetId: string;
      broadcastId: string;
      /** The channel's live broadcast as the command side knows it (null: off air); other reports are ignored. */
      liveBroadcastId: string | null;
      state: RestreamTargetState;
      reason: string | null;
      now: Date;
    };

export type RestreamEvent = EventOf<
  'RestreamTargetAdded' | 'RestreamTargetRemoved' | 'RestreamTargetEnabled' | 'RestreamTargetDisabled' | 'RestreamTargetStateChanged'
>;

/** A target as the aggregate knows it (removed ones are dropped). */
export interface RestreamTargetInfo {
  targetId: string;
  name: string;
  url: string;
  keyCiphertext: string;
  enabled: boolean;
  /** Last state reported by the ingest, with its broadcast, reason and time; null before the first report. */
  live: { broadcastId: string; state: RestreamTargetState; reason: string | null; at: string } | null;
}

/** Live targets by id, in the order they were added. */
export interface RestreamState {
  targets: ReadonlyMap<string, RestreamTargetInfo>;
}

function requireTarget(state: RestreamState, targetId: string): RestreamTargetInfo {
  const t = state.targets.get(targetId);
  if (!t) throw new DomainError('restream_target_not_found', 'no such restream target');
  return t;
}

/** Decider of a channel's restream targets. Errors: `too_many_restream_targets`, `restream_target_exists`, `restream_target_not_found`. */
export const restreamDecider: Decider<RestreamCommand, RestreamEvent, RestreamState> = {
  initialState: () => ({ targets: new Map() }),

  decide(command, state) {
    const { channelId, targetId } = command;
    switch (command.type) {
      case 'AddRestreamTarget': {
        if (state.targets.size >= MAX_RESTREAM_TARGETS_PER_CHANNEL) {
          throw new DomainError('too_many_restream_targets', `at most ${MAX_RESTREAM_TARGETS_PER_CHANNEL} restream targets per channel; remove one first`);
        }
        if (state.targets.has(targetId)) throw new DomainError('restream_target_exists', 'a restream target with this id already exists');
        const { name, url, keyCiphertext } = command;
        return [{ type: 'RestreamTargetAdded', data: { channelId, targetId, name, url, keyCiphertext } }];
      }
      case 'RemoveRestreamTarget':
        requireTarget(state, targetId);
        return [{ type: 'RestreamTargetRemoved', data: { channelId, targetId } }];
      case 'EnableRestreamTarget':
        return requireTarget(state, targetId).enabled ? [] : [{ type: 'RestreamTargetEnabled', data: { channelId, targetId } }];
      case 'DisableRestreamTarget':
        return requireTarget(state, targetId).enabled ? [{ type: 'RestreamTargetDisabled', data: { channelId, targetId } }] : [];
      case 'ReportRestreamState': {
        const t = state.targets.get(targetId);
        const { broadcastId, reason } = command;
        if (!t) return [];
        const prev = t.live;
        // The ingest stops its targets as the broadcast ends, racing `ingest.broadcast-end`: a `stopped` that closes the
        // broadcast this target last reported is kept even when that broadcast has just ended.
        const closing = command.state === 'stopped' && prev?.broadcastId === broadcastId;
        if (broadcastId !== command.liveBroadcastId && !closing) return [];
        if (prev && prev.broadcastId === broadcastId && prev.state === command.state && prev.reason === reason) return [];
        return [{ type: 'RestreamTargetStateChanged', data: { channelId, targetId, broadcastId, state: command.state, reason, at: command.now.toISOString() } }];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    const targets = new Map(state.targets);
    const { targetId } = event.data;
    const t = targets.get(targetId);
    switch (event.type) {
      case 'RestreamTargetAdded': {
        const { name, url, keyCiphertext } = event.data;
        targets.set(targetId, { targetId, name, url, keyCiphertext, enabled: true, live: null });
        break;
      }
      case 'RestreamTargetRemoved':
        targets.delete(targetId);
        break;
      case 'RestreamTargetEnabled':
      case 'RestreamTargetDisabled':
        if (!t) return state;
        targets.set(targetId, { ...t, enabled: event.type === 'RestreamTargetEnabled' });
        break;
      case 'RestreamTargetStateChanged': {
        if (!t) return state;
        const { broadcastId, state: s, reason, at } = event.data;
        targets.set(targetId, { ...t, live: { broadcastId, state: s, reason, at } });
        break;
      }
      default:
        return assertNever(event);
    }
    return { targets };
  },
};
