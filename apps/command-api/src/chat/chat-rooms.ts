/**
 * The chat side's aggregates behind in-memory caches (see core/cached-aggregates.ts): chat rooms
 * (`chat-<channelId>`) and follows (`follows-<channelId>`), 1000 channels each (LRU). One instance per process.
 */
import { Inject, Injectable } from '@nestjs/common';
import { streams, type EventMetadata } from '@eventcast/events';
import {
  chatRoomDecider,
  followsDecider,
  type ChatRoomCommand,
  type ChatRoomEvent,
  type ChatRoomState,
  type FollowsCommand,
  type FollowsEvent,
  type FollowsState,
} from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { CachedAggregates } from '../core/cached-aggregates.js';
import type { CommandOutcome } from '../core/handle-command.js';
import { EVENT_STORE } from '../core/tokens.js';

/** Rooms cached per process. */
export const CHAT_ROOM_CACHE_CAPACITY = 1000;

/** Cached chat rooms and follows. */
@Injectable()
export class ChatRooms {
  private readonly rooms: CachedAggregates<ChatRoomCommand, ChatRoomEvent, ChatRoomState>;
  private readonly follows: CachedAggregates<FollowsCommand, FollowsEvent, FollowsState>;

  constructor(@Inject(EVENT_STORE) store: EventStore) {
    this.rooms = new CachedAggregates(store, chatRoomDecider, { capacity: CHAT_ROOM_CACHE_CAPACITY });
    this.follows = new CachedAggregates(store, followsDecider, { capacity: CHAT_ROOM_CACHE_CAPACITY });
  }

  /** Decides a chat room command (built from fresh state on every attempt) and appends its events. */
  handleRoom(channelId: string, build: (state: ChatRoomState) => ChatRoomCommand | Promise<ChatRoomCommand>, metadata: EventMetadata): Promise<CommandOutcome<ChatRoomEvent, ChatRoomState>> {
    return this.rooms.handle(streams.chat(channelId), build, metadata);
  }

  /** Decides a follows command and appends its events. */
  handleFollows(channelId: string, command: FollowsCommand, metadata: EventMetadata): Promise<CommandOutcome<FollowsEvent, FollowsState>> {
    return this.follows.handle(streams.follows(channelId), () => command, metadata);
  }

  /** The channel's current follows state (cache caught up with the store). */
  async followsState(channelId: string): Promise<FollowsState> {
    return (await this.follows.load(streams.follows(channelId))).state;
  }
}
