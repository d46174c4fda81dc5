/**
 * The aggregates several features of the command side use, each behind its one {@link AggregateService} of this
 * process (provided globally by the root module): accounts, usernames, broadcasts and clips. Aggregates only one
 * feature uses are served by that feature's provider, on the same service (chat rooms and follows: chat/chat-rooms.ts;
 * integrations, restream targets, audiences, stream health). docs/design.md, "How a command is run".
 */
import { Inject, Injectable } from '@nestjs/common';
import { streams } from '@eventcast/events';
import {
  accountDecider,
  broadcastDecider,
  clipDecider,
  usernameDecider,
  type AccountCommand,
  type AccountEvent,
  type AccountState,
  type BroadcastCommand,
  type BroadcastEvent,
  type BroadcastState,
  type ClipCommand,
  type ClipEvent,
  type ClipState,
  type UsernameCommand,
  type UsernameEvent,
  type UsernameState,
} from '@eventcast/domain';
import type { EventStore } from '@eventcast/event-store';
import { AggregateService } from './aggregate-service.js';
import { EVENT_STORE } from './tokens.js';

/** Channels whose broadcast aggregate stays cached (LRU). */
export const BROADCAST_CACHE_CAPACITY = 1000;

/** The shared aggregates, by aggregate type (ids: account id, username, channel id, clip id). */
@Injectable()
export class Aggregates {
  /** `account-<accountId>`: the account and its channel (read on nearly every request: no cache, always current). */
  readonly accounts: AggregateService<AccountCommand, AccountEvent, AccountState>;
  /** `username-<name>`: username reservations (claimed with expected revision `no_stream`). */
  readonly usernames: AggregateService<UsernameCommand, UsernameEvent, UsernameState>;
  /**
   * `broadcast-<channelId>`: the channel's broadcasts — the one way to it, for the ingest's start/end/recorded
   * commands, publish authorization, audiences, stream health, restream, clips and retention. Cached: the readers
   * (audience samples, health samples) ask for it many times a second per live channel and read only what is new.
   */
  readonly broadcasts: AggregateService<BroadcastCommand, BroadcastEvent, BroadcastState>;
  /** `clip-<clipId>`: one clip (created once, deleted once: no cache). */
  readonly clips: AggregateService<ClipCommand, ClipEvent, ClipState>;

  constructor(@Inject(EVENT_STORE) store: EventStore) {
    this.accounts = new AggregateService(store, accountDecider, streams.account);
    this.usernames = new AggregateService(store, usernameDecider, streams.username);
    this.broadcasts = new AggregateService(store, broadcastDecider, streams.broadcast, { cache: { capacity: BROADCAST_CACHE_CAPACITY } });
    this.clips = new AggregateService(store, clipDecider, streams.clip);
  }
}
