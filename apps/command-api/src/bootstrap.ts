/**
 * {@link bootstrapCommandApi}: builds and starts the command API (HTTP + NATS request/reply + event publisher).
 * Used by `main.ts` and by the tests (port 0 = any free port).
 */
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { IDEMPOTENT_REPLAYED_HEADER, RATE_LIMIT_HEADERS } from '@eventcast/contracts';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCookie from '@fastify/cookie';
import { Redis } from 'ioredis';
import { createLogger, httpMetricsRecorder, natsConnectionOptions, PinoNestLogger, registerAppMetrics, type Logger } from '@eventcast/platform';
import { AppModule } from './app.module.js';
import type { CommandApiConfig } from './core/config.js';
import { CORRELATION_HEADER } from './core/correlation.js';
import { CORS_METHODS, createHttpAdapter, installHttpHooks } from './core/http-server.js';
import { HttpExceptionFilter } from './core/http-exception.filter.js';
import { createPublisher, openEventStore } from './core/infrastructure.js';
import type { Stoppable } from './core/infrastructure-lifecycle.js';
import { NatsStatusTracker } from './core/nats-status.js';
import { RedisThrottlerStorage } from './core/rate-limits.js';
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

/** Whether `origin` (`scheme://host[:port]`) names the same host as the request's `Host` header (ports may differ). */
function sameHost(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).hostname.toLowerCase() === new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
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
  // Rate-limit counters (core/rate-limits.ts). Never queued while Redis is away: the limiter's in-memory insurance
  // counts meanwhile, and ioredis reconnects by itself.
  // commandTimeout: a Redis that is connected but does not answer must not hold every request (the limiter's insurance
  // takes the timed-out call).
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 500 });
  let redisDown = false;
  redis.on('error', (err: Error) => {
    if (!redisDown) logger.warn({ err: err.message }, 'Redis unreachable: rate limits are counted per process until it is back');
    redisDown = true;
  });
  redis.on('ready', () => {
    if (redisDown) logger.info('Redis reachable again: rate limits are shared again');
    redisDown = false;
  });
  redis.connect().catch(() => undefined);
  const rateLimitStorage = new RedisThrottlerStorage(redis, config.RATE_LIMIT_KEY_PREFIX ?? 'eventcast:rl', (err) =>
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate limits counted per process: a Redis call failed'),
  );
  stopOnShutdown.push({ name: 'redis', stop: () => redis.quit().then(() => undefined, () => redis.disconnect()) });

  let app: NestFastifyApplication;
  try {
    app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ config, store, logger, natsStatus, stopOnShutdown, rateLimitStorage }), createHttpAdapter(logger, recordHttp, config.TRUSTED_PROXIES), {
      logger: new PinoNestLogger(logger),
      // The JSON parser is ours (core/http-server.ts: an empty body reads as `{}`); no urlencoded parser (a JSON API).
      bodyParser: false,
    });
  } catch (err) {
    await store.close();
    redis.disconnect();
    throw err;
  }
  try {
    // Every method the API has: @fastify/cors allows only GET, HEAD and POST unless told (Express's `cors` allowed all);
    // and an OPTIONS without the pre-flight headers gets 204, not @fastify/cors's plain-text 400 (as on Express).
    // `/auth/*` answers with credentials (the refresh cookie, docs/contracts.md "Sessions") only for the origins of
    // CORS_ORIGINS, or — unset — for pages of the host the API was reached by (the quick start's web app on another port
    // of the same host); every other route is a bearer-token API open to any origin (`*`, never credentials).
    const cors = {
      methods: [...CORS_METHODS],
      // readable by the web app on another origin: rate-limit fields and Retry-After too
      exposedHeaders: [CORRELATION_HEADER, IDEMPOTENT_REPLAYED_HEADER, RATE_LIMIT_HEADERS.limit, RATE_LIMIT_HEADERS.remaining, RATE_LIMIT_HEADERS.reset, RATE_LIMIT_HEADERS.policy, RATE_LIMIT_HEADERS.retryAfter],
      strictPreflight: false,
    };
    app.enableCors({
      ...cors,
      delegator: (req, cb) => {
        if (!isAuthPath(req.url)) return cb(null, { ...cors, origin: '*' });
        const origin = req.headers.origin;
        const allowed = typeof origin === 'string' && (config.CORS_ORIGINS ? config.CORS_ORIGINS.includes(origin) : sameHost(origin, req.headers.host));
        cb(null, { ...cors, origin: allowed ? origin : false, credentials: true });
      },
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
