/**
 * Root module: controllers and services over injected resources (database, runtime) that
 * {@link bootstrapQueryApi} creates outside Nest.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { BroadcastsController } from './broadcasts/broadcasts.controller.js';
import { BroadcastsService } from './broadcasts/broadcasts.service.js';
import { ChannelsController } from './channels/channels.controller.js';
import { ChannelsService } from './channels/channels.service.js';
import { LifecycleService } from './common/lifecycle.service.js';
import { QUERY_API_RUNTIME, type QueryApiRuntime } from './common/tokens.js';
import { READ_MODEL_DB, type ReadModelDb } from './database/database.js';
import { HealthController } from './health/health.controller.js';

/** The query-api Nest module. */
@Module({})
export class AppModule {
  /** Binds the read-model database and runtime hooks. */
  static forRoot(db: ReadModelDb, runtime: QueryApiRuntime): DynamicModule {
    return {
      module: AppModule,
      controllers: [ChannelsController, BroadcastsController, HealthController],
      providers: [
        { provide: READ_MODEL_DB, useValue: db },
        { provide: QUERY_API_RUNTIME, useValue: runtime },
        ChannelsService,
        BroadcastsService,
        LifecycleService,
      ],
    };
  }
}
