/**
 * Root module. {@link AppModule.forRoot} receives the infrastructure built by {@link bootstrapCommandApi} (store,
 * config, logger, NATS status) and provides it globally, with the shared aggregates ({@link Aggregates}); the
 * features import CqrsModule and use the tokens.
 */
import { Global, Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ThrottlerModule, type ThrottlerStorage } from '@nestjs/throttler';
import { APP_GUARD, Reflector } from '@nestjs/core';
import { parseRateLimits } from '@eventcast/contracts';
import type { EventStore } from '@eventcast/event-store';
import type { Logger } from '@eventcast/platform';
import { AccountsModule } from './accounts/accounts.module.js';
import { AudienceModule } from './audience/audience.module.js';
import { BroadcastsModule } from './broadcasts/broadcasts.module.js';
import { ChannelsModule } from './channels/channels.module.js';
import { ChatModule } from './chat/chat.module.js';
import { Aggregates } from './core/aggregates.js';
import type { CommandApiConfig } from './core/config.js';
import { InfrastructureLifecycle, type Stoppable } from './core/infrastructure-lifecycle.js';
import { NatsStatusTracker } from './core/nats-status.js';
import { RateLimitGuard, throttlerOptions } from './core/rate-limits.js';
import { CONFIG, EVENT_STORE, LOGGER, NATS_STATUS } from './core/tokens.js';
import { HealthModule } from './health/health.module.js';
import { IdempotencyModule } from './idempotency/idempotency.module.js';
import { IngestModule } from './ingest/ingest.module.js';
import { IntegrationsModule } from './integrations/integrations.module.js';
import { RecordingsModule } from './recordings/recordings.module.js';
import { RestreamModule } from './restream/restream.module.js';

/** What the root module needs from the bootstrap. */
export interface AppDependencies {
  config: CommandApiConfig;
  store: EventStore;
  logger: Logger;
  natsStatus: NatsStatusTracker;
  /** Stopped, in order, after HTTP and NATS closed (e.g. the event publisher, then the store). */
  stopOnShutdown: Stoppable[];
  /** Where the rate-limit counters live (Redis: core/rate-limits.ts). */
  rateLimitStorage: ThrottlerStorage;
}

/** Global providers of the infrastructure tokens. */
@Global()
@Module({})
class CoreModule {
  static forRoot(deps: AppDependencies): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: CONFIG, useValue: deps.config },
        { provide: EVENT_STORE, useValue: deps.store },
        { provide: LOGGER, useValue: deps.logger },
        { provide: NATS_STATUS, useValue: deps.natsStatus },
        { provide: InfrastructureLifecycle, useFactory: () => new InfrastructureLifecycle(deps.stopOnShutdown, deps.logger) },
        Aggregates,
      ],
      exports: [CONFIG, EVENT_STORE, LOGGER, NATS_STATUS, Aggregates],
    };
  }
}

/** The command API's root module. */
@Module({})
export class AppModule {
  /** Builds the module graph around the given infrastructure. */
  static forRoot(deps: AppDependencies): DynamicModule {
    const rateLimits = deps.config.RATE_LIMITS ?? parseRateLimits(undefined);
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(deps),
        CqrsModule.forRoot(),
        // Rate limits (core/rate-limits.ts): per route budget and client address, counted in Redis. The throttler is the
        // unnamed `default` one so that @nestjs/throttler writes the standard `Retry-After` header (a named one gets
        // `Retry-After-<name>`); the 429 says in words what happened (libs/contracts/src/rate-limits.ts).
        ThrottlerModule.forRootAsync({
          inject: [Reflector],
          useFactory: (reflector: Reflector) => throttlerOptions(rateLimits, deps.rateLimitStorage, reflector),
        }),
        IdempotencyModule,
        AccountsModule,
        ChannelsModule,
        BroadcastsModule,
        IngestModule,
        ChatModule,
        AudienceModule,
        IntegrationsModule,
        RestreamModule,
        RecordingsModule,
        HealthModule,
      ],
      providers: [{ provide: APP_GUARD, useClass: RateLimitGuard }],
    };
  }
}
