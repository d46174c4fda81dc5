/**
 * The chat side's aggregates behind in-memory caches with group commit (see core/aggregate-service.ts): chat rooms
 * (`chat-<channelId>`) and follows (`follows-<channelId>`), 1000 channels each (LRU). One instance per process.
 * Chat room commands of one channel (sends and moderation alike) queue behind the channel's append in flight and are
 * then decided in order and appended together, up to {@link CHAT_ROOM_GROUP_SIZE} per append. Events of a command that
 * names a `commandId` in its metadata (an idempotency key) get ids derived from it (idempotency/command-ids.ts), so the
 * store refuses a retried command's second append with DuplicateEventIdError.
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
import { AggregateService, type Aggregate, type AggregateServiceStats, type CommandOutcome } from '../core/aggregate-service.js';
import { EVENT_STORE } from '../core/tokens.js';
import { CommandEventIds } from '../idempotency/command-ids.js';

/** Rooms cached per process. */
export const CHAT_ROOM_CACHE_CAPACITY = 1000;
/**
 * Most chat room commands of one channel decided and appended together. A room's lane has one append in flight, so a
 * hot room takes at most this many messages per append round trip (issue 12: on a loaded machine, one room acked
 * 72–313 msgs/s at 1,000 offered while 20 rooms acked 490; 1,000 per group was tried and measured no better there —
 * bench/results/command-path-quick.md; re-measure on an idle machine before changing it).
 */
export const CHAT_ROOM_GROUP_SIZE = 100;

/** Cached chat rooms and follows. */
@Injectable()
export class ChatRooms {
  private readonly rooms: AggregateService<ChatRoomCommand, ChatRoomEvent, ChatRoomState>;
  private readonly follows: AggregateService<FollowsCommand, FollowsEvent, FollowsState>;

  /** The store as the lanes use it: events of a command with a `commandId` get ids derived from it (idempotency). */
  readonly store: EventStore;

  constructor(@Inject(EVENT_STORE) store: EventStore) {
    store = new CommandEventIds(store);
    this.store = store;
    this.rooms = new AggregateService(store, chatRoomDecider, streams.chat, { cache: { capacity: CHAT_ROOM_CACHE_CAPACITY, maxGroupSize: CHAT_ROOM_GROUP_SIZE } });
    this.follows = new AggregateService(store, followsDecider, streams.follows, { cache: { capacity: CHAT_ROOM_CACHE_CAPACITY } });
  }

  /**
   * Decides a chat room command (built from the room's state on every attempt, after the commands queued before it)
   * and appends its events, together with the other commands of its group.
   */
  handleRoom(channelId: string, build: (state: ChatRoomState) => ChatRoomCommand | Promise<ChatRoomCommand>, metadata: EventMetadata): Promise<CommandOutcome<ChatRoomEvent, ChatRoomState>> {
    return this.rooms.handle(channelId, build, metadata);
  }

  /** The channel's chat room (cache caught up with the store). */
  roomState(channelId: string): Promise<Aggregate<ChatRoomState>> {
    return this.rooms.load(channelId);
  }

  /** Decides a follows command and appends its events. */
  handleFollows(channelId: string, command: FollowsCommand, metadata: EventMetadata): Promise<CommandOutcome<FollowsEvent, FollowsState>> {
    return this.follows.handle(channelId, command, metadata);
  }

  /** The channel's current follows state (cache caught up with the store). */
  async followsState(channelId: string): Promise<FollowsState> {
    return (await this.follows.load(channelId)).state;
  }

  /** Counters of the chat room lanes (commands, groups, appends, conflicts, reads), for tests and metrics. */
  roomStats(): AggregateServiceStats {
    return this.rooms.stats();
  }
}
