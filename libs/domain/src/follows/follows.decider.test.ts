import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fold } from '../decider.js';
import { specFor } from '../specification.js';
import { followsDecider, isFollower, type FollowsEvent } from './follows.decider.js';

const spec = specFor(followsDecider, assert.deepStrictEqual);
const ownerId = '00000000-0000-4000-8000-000000000001';
const channel = { id: ownerId, username: 'owner', ownerId };
const fan = { id: '00000000-0000-4000-8000-000000000002', name: 'fan' };
const data = { channelId: ownerId, username: 'owner', followerId: fan.id, followerName: 'fan' };
const followed: FollowsEvent = { type: 'ChannelFollowed', data };

describe('follows decider', () => {
  it('follows once; following again records nothing', () => {
    spec.given([]).when({ type: 'Follow', channel, follower: fan }).then([followed]);
    spec.given([followed]).when({ type: 'Follow', channel, follower: fan }).then([]);
  });

  it('unfollows a follower; unfollowing again records nothing', () => {
    spec.given([followed]).when({ type: 'Unfollow', channel, follower: fan }).then([{ type: 'ChannelUnfollowed', data }]);
    spec.given([followed, { type: 'ChannelUnfollowed', data }]).when({ type: 'Unfollow', channel, follower: fan }).then([]);
  });

  it('refuses the owner following their own channel', () => {
    spec.given([]).when({ type: 'Follow', channel, follower: { id: ownerId, name: 'owner' } }).thenThrows('cannot_follow_self');
  });

  it('folds many followers', () => {
    const events: FollowsEvent[] = Array.from({ length: 5000 }, (_, i) => ({
      type: 'ChannelFollowed',
      data: { ...data, followerId: `00000000-0000-4000-8000-${(10_000 + i).toString().padStart(12, '0')}` },
    }));
    const state = fold(followsDecider, [...events, { type: 'ChannelUnfollowed', data: { ...data, followerId: events[0]!.data.followerId } }]);
    assert.equal(state.followers.size, 4999);
    assert.equal(isFollower(state, events[1]!.data.followerId), true);
    assert.equal(isFollower(state, events[0]!.data.followerId), false);
  });
});
