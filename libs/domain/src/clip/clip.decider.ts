/**
 * The clip aggregate (stream `clip-<clipId>`, issue 11 item 5): a short cut of a live broadcast or of a VOD, created
 * once (`ClipCreated`, after its files are in storage) and maybe deleted later (`ClipDeleted`: the channel owner, a
 * moderator, the clip's creator, an admin, or the retention job). Who may delete is checked by the caller, which
 * knows the channel's moderators.
 */
import type { RecordingDeletionReason } from '@eventcast/contracts';
import type { EventData } from '@eventcast/events';
import { assertNever, DomainError, type Decider, type EventOf } from '../decider.js';

export type ClipCommand =
  /** Records a new clip (its MP4 and thumbnail already stored). */
  | { type: 'CreateClip'; clip: EventData<'ClipCreated'> }
  /** Deletes the clip; `deletedBy` null for the retention job. */
  | { type: 'DeleteClip'; deletedBy: string | null; reason: RecordingDeletionReason };

export type ClipEvent = EventOf<'ClipCreated' | 'ClipDeleted'>;

export type ClipState =
  | { status: 'absent' }
  | {
      status: 'created' | 'deleted';
      clipId: string;
      channelId: string;
      broadcastId: string;
      createdBy: string;
      /** ISO-8601 of the clip's first frame. */
      startedAt: string;
      bytes: number;
    };

/** Decider of one clip. Errors: `clip_exists` (creating it twice), `clip_not_found` (deleting an absent or deleted clip). */
export const clipDecider: Decider<ClipCommand, ClipEvent, ClipState> = {
  initialState: () => ({ status: 'absent' }),

  decide(command, state) {
    switch (command.type) {
      case 'CreateClip':
        if (state.status !== 'absent') throw new DomainError('clip_exists', `clip ${command.clip.clipId} already exists`);
        return [{ type: 'ClipCreated', data: command.clip }];
      case 'DeleteClip':
        if (state.status !== 'created') throw new DomainError('clip_not_found', 'no such clip');
        return [{ type: 'ClipDeleted', data: { clipId: state.clipId, channelId: state.channelId, deletedBy: command.deletedBy, reason: command.reason } }];
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ClipCreated': {
        const { clipId, channelId, broadcastId, createdBy, startedAt, bytes } = event.data;
        return { status: 'created', clipId, channelId, broadcastId, createdBy, startedAt, bytes };
      }
      case 'ClipDeleted':
        return state.status === 'absent' ? state : { ...state, status: 'deleted' };
      default:
        return assertNever(event);
    }
  },
};
