/**
 * Who follows a channel (stream `follows-<channelId>`). Following twice or unfollowing when not following records
 * nothing (idempotent: a double click or a retried request is harmless). The owner cannot follow their own channel.
 * The follower set is a bucketed persistent set, so folding a channel with many followers stays linear.
 */
import { assertNever, DomainError, type Decider, type EventOf } from '../decider.js';
import type { ChatChannel, ChatUser } from '../chat/chat-room.types.js';
import { emptyIdSet, idSetAdd, idSetDelete, idSetHas, type IdSet } from '../chat/id-set.js';

export type FollowsCommand =
  | { type: 'Follow'; channel: ChatChannel; follower: ChatUser }
  | { type: 'Unfollow'; channel: ChatChannel; follower: ChatUser };

export type FollowsEvent = EventOf<'ChannelFollowed' | 'ChannelUnfollowed'>;

/** Follower account ids. */
export interface FollowsState {
  followers: IdSet;
}

/** True when `userId` follows the channel whose follows state this is. */
export function isFollower(state: FollowsState, userId: string): boolean {
  return idSetHas(state.followers, userId);
}

/** Decider of a channel's follows. Error: `cannot_follow_self` (the owner following their own channel). */
export const followsDecider: Decider<FollowsCommand, FollowsEvent, FollowsState> = {
  initialState: () => ({ followers: emptyIdSet }),

  decide(command, state) {
    const { channel, follower } = command;
    const data = { channelId: channel.id, username: channel.username, followerId: follower.id, followerName: follower.name };
    switch (command.type) {
      case 'Follow':
        if (follower.id === channel.ownerId) throw new DomainError('cannot_follow_self', 'you cannot follow your own channel');
        return isFollower(state, follower.id) ? [] : [{ type: 'ChannelFollowed', data }];
      case 'Unfollow':
        return isFollower(state, follower.id) ? [{ type: 'ChannelUnfollowed', data }] : [];
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ChannelFollowed':
        return { followers: idSetAdd(state.followers, event.data.followerId) };
      case 'ChannelUnfollowed':
        return { followers: idSetDelete(state.followers, event.data.followerId) };
      default:
        return assertNever(event);
    }
  },
};
