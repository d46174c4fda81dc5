import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AccountsModule } from '../accounts/accounts.module.js';
import { EndBroadcastHandler } from './commands/end-broadcast.handler.js';
import { EndLiveBroadcastsHandler } from './commands/end-live-broadcasts.handler.js';
import { StartBroadcastHandler } from './commands/start-broadcast.handler.js';

/** Broadcasts feature: start/end of a channel's live sessions (commands sent by ingest over NATS). */
@Module({
  imports: [CqrsModule, AccountsModule],
  providers: [StartBroadcastHandler, EndBroadcastHandler, EndLiveBroadcastsHandler],
})
export class BroadcastsModule {}
