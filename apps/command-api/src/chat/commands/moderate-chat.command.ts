import { Command } from '@nestjs/cqrs';
import type { EventMetadata } from '@eventcast/events';
import type { ChatModerationCommand, ChatRoomEvent, ChatRoomState, ChatUser } from '@eventcast/domain';

/** `Omit` applied to each member of a union (the built-in one merges the members). */
type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Moderation commands that act on a user (`target`). */
type TargetedCommand = Extract<ChatModerationCommand, { target: ChatUser }>;

/**
 * A moderation action as the HTTP API gives it, derived from the chat room's commands (`ChatModerationCommand` of
 * @eventcast/domain): without the room and the actor (the handler adds them) and the time (taken when decided), and
 * with the target user named by username (resolved by the handler) instead of `target`.
 */
export type ModerationAction =
  | OmitEach<Exclude<ChatModerationCommand, TargetedCommand>, 'channel' | 'actor'>
  | (OmitEach<TargetedCommand, 'channel' | 'actor' | 'target' | 'now'> & { targetUsername: string });

/** Result of a moderation command: the room's state after it, the events appended and the target, if any. */
export interface ModerationOutcome {
  state: ChatRoomState;
  events: ChatRoomEvent[];
  target: ChatUser | null;
}

/** `actor` moderates the chat of the channel `channelUsername`. */
export class ModerateChatCommand extends Command<ModerationOutcome> {
  constructor(
    readonly channelUsername: string,
    readonly actor: ChatUser,
    readonly action: ModerationAction,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}
