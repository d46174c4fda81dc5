import { Command } from '@nestjs/cqrs';
import type { ChatSettings, EventMetadata } from '@eventcast/events';
import type { BlockedTermAction, ChatRoomEvent, ChatRoomState, ChatUser, EmoteContentType } from '@eventcast/domain';

/** A moderation action as the HTTP API gives it: target users by username (resolved by the handler). */
export type ModerationAction =
  | { type: 'DeleteChatMessage'; messageId: string; reason?: string | undefined }
  | { type: 'ClearChat' }
  | { type: 'TimeOutUser'; targetUsername: string; durationSeconds: number; reason?: string | undefined }
  | { type: 'BanUser'; targetUsername: string; reason?: string | undefined }
  | { type: 'UnbanUser'; targetUsername: string }
  | { type: 'AddModerator'; targetUsername: string }
  | { type: 'RemoveModerator'; targetUsername: string }
  | { type: 'ChangeChatSettings'; settings: Partial<ChatSettings> }
  | { type: 'UpdateBlockedTerms'; terms: readonly string[]; action: BlockedTermAction }
  | { type: 'AddEmote'; code: string; contentType: EmoteContentType; imageBase64: string }
  | { type: 'RemoveEmote'; code: string };

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
