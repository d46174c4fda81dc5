import { Module } from '@nestjs/common';
import { AudienceNatsController } from './audience-nats.controller.js';
import { Audiences } from './audiences.js';

/** Analytics input from the realtime edge: viewer samples and unique viewers per broadcast (docs/contracts.md). */
@Module({
  controllers: [AudienceNatsController],
  providers: [Audiences],
})
export class AudienceModule {}
