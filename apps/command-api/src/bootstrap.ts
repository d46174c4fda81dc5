/**
 * {@link bootstrapCommandApi}: builds and starts the command API (HTTP + NATS request/reply + event publisher).
 * Used by `main.ts` and by the tests (port 0 = any free port).
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { IDEMPOTENT_REPLAYED_HEADER } from '@eventcast/contracts';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import { createLogger, httpMetricsRecorder, natsConnectionOptions, PinoNestLogger, registerAppMetrics, type Logger } from '@eventcast/platform';
import { AppModule } from './app.module.js';
import type { CommandApiConfig } from './core/config.js';
import { CORRELATION_HEADER } from './core/correlation.js';
import { CORS_METHODS, createHttpAdapter, installHttpHooks } from './core/http-server.js';
import { HttpExceptionFilter } from './core/http-exception.filter.js';
import { createPublisher, openEventStore } from './core/infrastructure.js';
import type { Stoppable } from './core/infrastructure-lifecycle.js';
import { NatsStatusTracker } from './core/nats-status.js';
import { setupSwagger } from './core/swagger.js';
import { createValidationPipe } from './core/validation.js';

/** A running command API. `close()` stops HTTP, NATS, the publisher and the store, in that order. */
export interface CommandApi {
  app: NestFastifyApplication;
  /** The HTTP port actually bound. */
  port: number;
  close(): Promise<void>;
}

/** Whether a request URL is under `/auth/` (the routes of the refresh cookie). */
function isAuthPath(url: string | undefined): boolean {
  return url !== undefined && (url === '/auth' || url.startsWith('/auth/') || url.startsWith('/auth?'));
}

/** Options for tests and embedding. */
export interface BootstrapOptions {
  /** Root pino logger (default: JSON to stdout, level LOG_LEVEL). */
  logger?: Logger;
  /** Run the event publisher (default true). */
  publisher?: boolean;
  /** On SIGTERM/SIGINT close gracefully (HTTP, NATS, publisher, store), then exit 0 (default true). */
  shutdownHooks?: boolean;
}

/**
 * Migrates the store, starts the NATS microservice (queue group `command-api`), the publisher and HTTP on
 * `config.HOST:config.COMMAND_API_PORT`.
 * @throws when PostgreSQL or NATS is unreachable or the port is taken (everything opened so far is closed).
 */
export async function bootstrapCommandApi(config: CommandApiConfig, options: BootstrapOptions = {}): Promise<CommandApi> {
  const logger = options.logger ?? createLogger('command-api');
  registerAppMetrics('command-api');
  const store = await openEventStore(config);
  const publisher = options.publisher === false ? null : createPublisher(config, store, logger);
  const natsStatus = new NatsStatusTracker();
  const recordHttp = httpMetricsRecorder('command-api');
  const stopOnShutdown: Stoppable[] = [];
  if (publisher) stopOnShutdown.push({ name: 'event-publisher', stop: () => publisher.stop() });
  stopOnShutdown.push({ name: 'event-store', stop: () => store.close() });

  let app: NestFastifyApplication;
  try {
    app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ config, store, logger, natsStatus, stopOnShutdown }), createHttpAdapter(logger, recordHttp, config.TRUSTED_PROXIES), {
      logger: new PinoNestLogger(logger),
      // The JSON parser is ours (core/http-server.ts: an empty body reads as `{}`); no urlencoded parser (a JSON API).
      bodyParser: false,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  try {
    // Every method the API has: @fastify/cors allows only GET, HEAD and POST unless told (Express's `cors` allowed all);
    // and an OPTIONS without the pre-flight headers gets 204, not @fastify/cors's plain-text 400 (as on Express).
    // `/auth/*` answers with credentials (the refresh cookie, docs/contracts.md "Sessions") for the request's origin (or
    // only those of CORS_ORIGINS); every other route is a bearer-token API open to any origin.
    const cors = { methods: [...CORS_METHODS], exposedHeaders: [CORRELATION_HEADER, IDEMPOTENT_REPLAYED_HEADER], strictPreflight: false };
    const authOrigins = config.CORS_ORIGINS ? [...config.CORS_ORIGINS] : true;
    app.enableCors({
      ...cors,
      delegator: (req, cb) => cb(null, isAuthPath(req.url) ? { ...cors, origin: authOrigins, credentials: true } : { ...cors, origin: '*' }),
    });
    // Cookies (@fastify/cookie): read on `/auth/*` only, set there as the refresh token.
    await app.register(fastifyCookie);
    installHttpHooks(app.getHttpAdapter().getInstance(), logger, recordHttp);
    app.useGlobalPipes(createValidationPipe());
    app.useGlobalFilters(new HttpExceptionFilter(logger));
    setupSwagger(app);
    const nats = app.connectMicroservice<MicroserviceOptions>({
      transport: Transport.NATS,
      options: { ...natsConnectionOptions(config, 'command-api'), queue: 'command-api' },
    });
    natsStatus.follow(nats.status);
    if (options.shutdownHooks !== false) app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
    await app.startAllMicroservices();
    await publisher?.start();
    await app.listen(config.COMMAND_API_PORT, config.HOST);
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  const port = (app.getHttpServer().address() as AddressInfo).port;
  logger.info({ port, nats: config.NATS_URL }, 'command-api listening');
  return {
    app,
    port,
    close: async () => {
      natsStatus.closed();
      await app.close();
    },
  };
}
