import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AccountsModule } from '../accounts/accounts.module.js';
import { BroadcastsModule } from '../broadcasts/broadcasts.module.js';
import { AuthorizePublishHandler } from './commands/authorize-publish.handler.js';
import { IngestController } from './ingest.controller.js';
import { StreamHealthController } from './stream-health.controller.js';
import { StreamHealthRecorder } from './stream-health.js';

/** Ingest feature: NATS request/reply commands from apps/ingest. */
@Module({
  imports: [CqrsModule, AccountsModule, BroadcastsModule],
  controllers: [IngestController, StreamHealthController],
  providers: [AuthorizePublishHandler, StreamHealthRecorder],
})
export class IngestModule {}
