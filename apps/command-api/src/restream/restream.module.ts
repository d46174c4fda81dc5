import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { RestreamAggregates } from './restream-aggregates.js';
import { RestreamNatsController } from './restream-nats.controller.js';
import { RestreamController } from './restream.controller.js';

/** Restream / simulcast (issue 10 item 7): the owner's targets over HTTP and the ingest's requests over NATS. */
@Module({
  imports: [AccountsModule],
  controllers: [RestreamController, RestreamNatsController],
  providers: [RestreamAggregates],
})
export class RestreamModule {}
