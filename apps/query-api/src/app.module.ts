/**
 * Root module: controllers and services over injected resources (database, runtime) that
 * {@link bootstrapQueryApi} creates outside Nest.
 */
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { AdminController } from './admin/admin.controller.js';
import { AdminGuard } from './admin/admin.guard.js';
import { AdminService } from './admin/admin.service.js';
import { AnalyticsController } from './analytics/analytics.controller.js';
import { AnalyticsService } from './analytics/analytics.service.js';
import { StreamHealthController } from './stream-health/stream-health.controller.js';
import { StreamHealthService } from './stream-health/stream-health.service.js';
import { BearerAuthGuard } from './auth/bearer-auth.guard.js';
import { BroadcastsController } from './broadcasts/broadcasts.controller.js';
import { BroadcastsService } from './broadcasts/broadcasts.service.js';
import { ChannelsController } from './channels/channels.controller.js';
import { ChannelsService } from './channels/channels.service.js';
import { ChatController } from './chat/chat.controller.js';
import { ChatService } from './chat/chat.service.js';
import { CommunityController } from './chat/community.controller.js';
import { CommunityService } from './chat/community.service.js';
import { LifecycleService } from './common/lifecycle.service.js';
import { ReadYourWritesInterceptor } from './common/read-your-writes.interceptor.js';
import { QUERY_API_RUNTIME, type QueryApiRuntime } from './common/tokens.js';
import { READ_MODEL_DB, type ReadModelDb } from '@eventcast/read-models';
import { HealthController } from './health/health.controller.js';
import { ApiTokenReader } from './integrations/api-token.reader.js';
import { ChatReadTokenGuard } from './integrations/chat-read-token.guard.js';
import { WebhookDeliveriesController } from './webhooks/index.js';
import { RestreamController } from './restream/restream.controller.js';
import { VodController } from './vod/vod.controller.js';
import { VodService } from './vod/vod.service.js';
import { MetricsController } from '@eventcast/platform/nest-metrics';
import { jwtSecretKey } from '@eventcast/platform';

/** The query-api Nest module. */
@Module({})
export class AppModule {
  /**
   * Binds the read-model database, runtime hooks and the JWT verifier.
   * @param jwtSecret HS256 secret shared with command-api (`JWT_SECRET`).
   */
  static forRoot(db: ReadModelDb, runtime: QueryApiRuntime, jwtSecret: string): DynamicModule {
    return {
      module: AppModule,
      controllers: [ChannelsController, BroadcastsController, ChatController, CommunityController, HealthController, MetricsController, AnalyticsController, WebhookDeliveriesController, AdminController, StreamHealthController, RestreamController, VodController],
      providers: [
        { provide: READ_MODEL_DB, useValue: db },
        { provide: QUERY_API_RUNTIME, useValue: runtime },
        { provide: JwtService, useValue: new JwtService({ secret: jwtSecretKey(jwtSecret), verifyOptions: { algorithms: ['HS256'] } }) },
        ChannelsService,
        BroadcastsService,
        ChatService,
        VodService,
        CommunityService,
        AnalyticsService,
        StreamHealthService,
        AdminService,
        AdminGuard,
        BearerAuthGuard,
        ApiTokenReader,
        ChatReadTokenGuard,
        LifecycleService,
        { provide: APP_INTERCEPTOR, useClass: ReadYourWritesInterceptor },
      ],
    };
  }
}
