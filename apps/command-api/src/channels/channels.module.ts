import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AccountsModule } from '../accounts/accounts.module.js';
import { ChannelsController } from './channels.controller.js';
import { UpdateChannelInfoHandler } from './commands/update-channel-info.handler.js';

/** Channels feature: channel info of the caller's account. */
@Module({
  imports: [CqrsModule, AccountsModule],
  controllers: [ChannelsController],
  providers: [UpdateChannelInfoHandler],
})
export class ChannelsModule {}
