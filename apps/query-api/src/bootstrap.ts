/**
 * Starts query-api: migrations → HTTP → NATS → projector leadership (@eventcast/read-models). As the leader: catch-up
 * from the event store → JetStream consumer (and, while NATS is away, catch-ups from the store:
 * messaging/store-follower.ts); as a follower: HTTP only, trying for the lock every second. Then the webhook module.
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger, httpMetricsMiddleware, loadConfig, natsConnectionOptions, PinoNestLogger, registerAppMetrics, type Logger } from '@eventcast/platform';
import { reportProjectorMetrics } from './observability/metrics.js';
import { ProjectionLagProbe } from './observability/projection-lag.js';
import { AppModule } from './app.module.js';
import { HttpErrorFilter } from './common/http-exception.filter.js';
import type { QueryApiRuntime } from './common/tokens.js';
import { recordingsConfigFromEnv, type QueryApiConfig } from './config.js';
import { createProjections, createReadModelDb, migrateReadModels, ProjectorLeadership, ProjectionRunner, projectionStatus, StoreCatchUp, type EventLogReader, type ProjectorRole } from '@eventcast/read-models';
import type { EventStore } from '@eventcast/event-store';
import { createEventStore } from './event-store.factory.js';
import { JetStreamProjector } from './messaging/jetstream-projector.js';
import { StoreFollower } from './messaging/store-follower.js';
import { startWebhooks, type RunningWebhooks } from './webhooks/index.js';
import { ReadPosition } from './common/read-position.js';
import { StoreHead } from './common/store-head.js';
import { DEFAULT_MAX_POSITION_WAIT_MS, POSITION_HEADER } from '@eventcast/contracts';

/** A running query-api. */
export interface RunningQueryApi {
  app: INestApplication;
  /** The HTTP port actually bound (useful with `port: 0`). */
  port: number;
  /** The projection runner (tests read checkpoints through it). */
  runner: ProjectionRunner;
  /** `leader` while this process holds the projector lock and applies events, else `follower` (projector-leadership.ts). */
  role(): ProjectorRole;
  /** Graceful stop: consumer (in-flight message finishes), HTTP server, NATS, event store, pool. Idempotent. */
  close(): Promise<void>;
}

/**
 * Boots query-api. Resolves once HTTP listens and the first try for the projector lock is done: as the leader, once
 * the read model has caught up with the event store and the JetStream consumer is attached (`/ready` is 200 from then
 * on); as a follower (another query-api on the same read-model database leads) at once, retrying the lock every
 * `leaderRetryMs` in the background.
 * @param config see {@link QueryApiConfig}.
 * @param logger defaults to `createLogger('query-api')`.
 * @throws on migration, store, NATS or listen errors (everything opened so far is closed again).
 */
export async function bootstrapQueryApi(config: QueryApiConfig, logger: Logger = createLogger('query-api')): Promise<RunningQueryApi> {
  const { db, root } = createReadModelDb(config.databaseUrl);
  let nc: NatsConnection | undefined;
  let ownedStore: EventStore | undefined;
  let projector: JetStreamProjector | undefined;
  let webhooks: RunningWebhooks | undefined;
  let follower: StoreFollower | undefined;
  let leadership: ProjectorLeadership | undefined;
  let closed = false;
  let unreportMetrics: (() => void) | undefined;
  registerAppMetrics('query-api');
  const closeResources = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    readPosition.close();
    await leadership?.stop();
    await follower?.stop();
    await projector?.stop();
    await webhooks?.stop().catch((err: unknown) => logger.warn({ err }, 'webhooks stop failed'));
    await nc?.drain().catch((err: unknown) => logger.warn({ err }, 'NATS drain failed'));
    await ownedStore?.close().catch((err: unknown) => logger.warn({ err }, 'event store close failed'));
    unreportMetrics?.();
    await root.destroy();
    logger.info('query-api stopped');
  };
  const readPosition = new ReadPosition(db, {
    names: createProjections().map((p) => p.name),
    maxWaitMs: config.maxPositionWaitMs ?? DEFAULT_MAX_POSITION_WAIT_MS,
  });
  const runtime: QueryApiRuntime = {
    hlsPublicUrl: config.hlsPublicUrl,
    readPosition,
    recordings: config.recordings ?? recordingsConfigFromEnv(process.env),
    // Readiness: a follower relies on the leader (another query-api) keeping the read models current, which the lag
    // limits check; the leader's projector consumes (JetStream consumer attached, NATS connected) or, NATS being
    // away, follows the event store directly (StoreFollower).
    consumerAttached: () =>
      leadership?.role === 'follower' || ((projector?.attached ?? false) && (follower?.natsConnected ?? false)) || (follower?.following ?? false),
    projectorRole: () => leadership?.role ?? 'follower',
    stopConsumer: async () => {
      logger.info('shutting down: stopping the JetStream consumer');
      await leadership?.stop();
      await follower?.stop();
      await projector?.stop();
    },
    closeResources,
  };

  let app: INestApplication | undefined;
  try {
    const applied = await migrateReadModels(root);
    if (applied.length > 0) logger.info({ migrations: applied }, 'read-model migrations applied');

    app = await NestFactory.create(AppModule.forRoot(db, runtime, config.jwtSecret ?? loadConfig({}).JWT_SECRET), {
      logger: new PinoNestLogger(logger),
      // Any origin; request headers are reflected (the read-your-writes header included) and its answer headers readable.
      cors: { exposedHeaders: [POSITION_HEADER, 'Retry-After'] },
    });
    app.useGlobalFilters(new HttpErrorFilter(logger));
    app.use(httpMetricsMiddleware('query-api'));
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Eventcast query-api')
        .setDescription('Read models: channels, broadcasts, chat history and moderation, emotes, follows')
        .setVersion('0.1.0')
        .addBearerAuth()
        .build(),
    );
    SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
    if (config.shutdownHooks !== false) app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
    await app.listen(config.port, config.host);
    const port = (app.getHttpServer() as { address(): AddressInfo }).address().port;
    logger.info({ port }, 'query-api listening');

    let store: EventLogReader;
    if (config.eventStore) store = config.eventStore;
    else {
      store = ownedStore = await createEventStore({
        kind: config.eventStoreKind ?? 'postgres',
        databaseUrl: config.eventStoreUrl ?? config.databaseUrl,
        eventStoreDbUrl: config.eventStoreDbUrl ?? '',
      });
    }
    const runner = new ProjectionRunner(db, createProjections());
    const lagProbe = new ProjectionLagProbe(db, store, runner.projections.map((p) => p.name));
    runtime.projectionLag = () => lagProbe.measure();
    if (config.readiness) runtime.lagThresholds = config.readiness;
    if (config.ingestUrls) runtime.ingestUrls = config.ingestUrls;
    const statusStore = store as Partial<Pick<EventStore, 'headPosition'>> & EventLogReader;
    if (statusStore.headPosition) {
      const withHead = { readAll: statusStore.readAll.bind(statusStore), headPosition: statusStore.headPosition.bind(statusStore) };
      runtime.projectionStatus = () => projectionStatus(db, withHead, runner.projections);
      runtime.storeHead = new StoreHead(withHead.headPosition);
    }
    unreportMetrics = reportProjectorMetrics({ runner, projector: () => projector, role: () => leadership?.role ?? 'follower', lag: () => lagProbe.measure(), logger });
    const catchUp = new StoreCatchUp(runner, store, logger, config.catchUpBatchSize ?? 500);
    const nats = natsConnectionOptions({ NATS_URL: config.natsUrl, NATS_USER: config.natsUser ?? '', NATS_PASSWORD: config.natsPassword ?? '' }, 'query-api');
    const bus = (nc = await connect({ ...nats, maxReconnectAttempts: -1 }));
    // One projector per read-model database: the leader catches up and consumes; followers serve HTTP and retry the
    // lock every second, taking over within seconds when the leader dies (projector-leadership.ts).
    leadership = new ProjectorLeadership({
      databaseUrl: config.databaseUrl,
      retryMs: config.leaderRetryMs,
      logger,
      onAcquired: async () => {
        const position = await catchUp.run();
        logger.info({ position: position.toString() }, 'read models caught up with the event store');
        follower = new StoreFollower(catchUp, logger);
        follower.watch(bus);
        projector = new JetStreamProjector(bus, runner, catchUp, config.jetstream, logger);
        await projector.start();
      },
      onLost: async () => {
        await follower?.stop();
        await projector?.stop().catch((err: unknown) => logger.warn({ err }, 'projector stop failed'));
        follower = undefined;
        projector = undefined;
      },
    });
    const role = await leadership.start();
    logger.info({ role }, role === 'leader' ? 'projector leader: applying the projections' : 'projector follower: another query-api applies the projections');
    if (config.webhooks) {
      webhooks = await startWebhooks({ nc, db, root, databaseUrl: config.databaseUrl, topology: config.jetstream, options: config.webhooks, logger });
    }

    const running = app;
    const lead = leadership;
    return { app: running, port, runner, role: () => lead.role, close: () => running.close() };
  } catch (err) {
    if (app) await app.close().catch(() => undefined);
    else await closeResources().catch(() => undefined);
    throw err;
  }
}
