import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AccountsModule } from '../accounts/accounts.module.js';
import { ChannelDirectory } from './channel-directory.js';
import { ChannelResolveNatsController } from './channel-resolve-nats.controller.js';
import { ChatModerationController } from './chat-moderation.controller.js';
import { ChatNatsController } from './chat-nats.controller.js';
import { ChatRooms } from './chat-rooms.js';
import { ChatSendRecords } from './chat-send-records.js';
import { ChatController } from './chat.controller.js';
import { EmotesController } from './emotes.controller.js';
import { FollowsController } from './follows.controller.js';
import { FollowChannelHandler } from './commands/follow-channel.handler.js';
import { ModerateChatHandler } from './commands/moderate-chat.handler.js';
import { SendChatMessageHandler } from './commands/send-chat-message.handler.js';

/** Chat feature (docs/chat.md): messages over NATS and HTTP, moderation, emotes, follows. */
@Module({
  imports: [CqrsModule, AccountsModule],
  controllers: [ChatNatsController, ChannelResolveNatsController, ChatController, ChatModerationController, EmotesController, FollowsController],
  providers: [ChannelDirectory, ChatRooms, ChatSendRecords, SendChatMessageHandler, ModerateChatHandler, FollowChannelHandler],
  // The recordings feature asks a chat room who moderates it (clip deletion).
  exports: [ChatRooms],
})
export class ChatModule {}
