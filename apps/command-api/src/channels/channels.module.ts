import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AccountsModule } from '../accounts/accounts.module.js';
import { ChannelsController } from './channels.controller.js';
import { SetLatencyModeHandler } from './commands/set-latency-mode.handler.js';
import { UpdateChannelInfoHandler } from './commands/update-channel-info.handler.js';

/** Channels feature: channel info and latency mode of the caller's account. */
@Module({
  imports: [CqrsModule, AccountsModule],
  controllers: [ChannelsController],
  providers: [UpdateChannelInfoHandler, SetLatencyModeHandler],
})
export class ChannelsModule {}
