/**
 * The realtime edge: a uWebSockets.js app with `/ws` (./gateway.ts), the NATS → viewers relay (./relay.ts, one
 * consumer per watched channel and the directory feed's, ./interest.ts, routed by
 * ./fanout.ts with the chat hold-back of ./held-messages.ts), `chat.send` to the command side (./chat-send.ts,
 * ./command-client.ts), Redis viewer/chatter counts (./presence.ts) pushed to viewers (./presence-push.ts).
 *
 * HTTP (all JSON, CORS `*`):
 * - `GET /health` → 200 `{ status: 'ok' }` while the process runs (liveness);
 * - `GET /ready` → 200 `{ status: 'ready', checks }` when NATS is connected and the directory feed's consumers are
 *   attached (./interest.ts; channel consumers are made per watched channel),
 *   else 503 `{ status: 'not_ready', checks }`; `checks = { nats, relay, redis }` (Redis is reported, not required);
 * - `GET /channels/:username/viewers` → 200 `{ channel, viewers }` summed over all edges; 400 bad username;
 *   503 when Redis is unavailable; errors as `{ statusCode, error, message }`.
 */
import { randomUUID } from 'node:crypto';
import * as uWS from 'uWebSockets.js';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { clientAddressResolver, natsConnectionOptions, type Config, type Logger } from '@eventcast/platform';
import { AudienceTracker, loadAudienceOptions, type AudienceOptions } from './audience.js';
import { TokenVerifier } from './auth.js';
import { ChannelDirectory } from './channel-directory.js';
import { ChatSendHandler, type ChatSendOptions } from './chat-send.js';
import { ChatCommandClient } from './command-client.js';
import { loadEdgeConfig, type EdgeConfig } from './edge-config.js';
import { PublishBatcher } from './publish-batcher.js';
import { FanOut } from './fanout.js';
import { CLOSE_GOING_AWAY, createGateway, DEFAULT_LIMITS, type Connection, type GatewayLimits } from './gateway.js';
import { HeldMessages, type HeldMessagesOptions } from './held-messages.js';
import { errorBody, handleAsync, sendJson, sendPreflight } from './http.js';
import { IpRateLimiter } from './ip-limiter.js';
import { metricsRoute } from './metrics.js';
import { Presence, type PresenceOptions } from './presence.js';
import { PresencePusher, type PresencePushOptions } from './presence-push.js';
import { channelTopic, DIRECTORY_TOPIC, isValidChannel } from './protocol.js';
import { EdgeInterest } from './interest.js';

/** Options of {@link startRealtime}. */
export interface RealtimeOptions {
  /** Connection settings and port; `REALTIME_PORT: 0` picks a free port. */
  config: Pick<Config, 'NATS_URL' | 'REDIS_URL' | 'REALTIME_PORT' | 'HOST' | 'JWT_SECRET'> & Partial<Pick<Config, 'NATS_USER' | 'NATS_PASSWORD'>>;
  /** Realtime-only settings; missing ones come from the environment (./edge-config.ts). */
  edge?: Partial<EdgeConfig>;
  logger: Logger;
  /** Id of this edge in presence keys. Default: a random UUID. */
  edgeId?: string;
  limits?: Partial<GatewayLimits>;
  presence?: PresenceOptions;
  presencePush?: PresencePushOptions;
  heldMessages?: HeldMessagesOptions;
  chat?: ChatSendOptions;
  /** Analytics input (./audience.ts); missing fields from `REALTIME_VIEWER_SAMPLE_SECONDS` and the defaults. */
  audience?: Partial<AudienceOptions>;
  /** Wait for the relay's first consumer before resolving (tests). Default false: `ready` resolves later. */
  waitForRelay?: boolean;
}

/** A running edge. */
export interface RealtimeServer {
  /** The TCP port actually listened on. */
  port: number;
  edgeId: string;
  /** Resolves once NATS is connected and the relay consumes (never rejects; pending while NATS is unreachable). */
  ready: Promise<void>;
  /** True when `/ready` would answer 200. */
  isReady(): boolean;
  /**
   * Graceful shutdown: stop listening, stop the relay, close every WebSocket with 1001 (going away), remove this
   * edge's viewer counts, drain NATS, quit Redis. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts the edge: listens at once (so `/health` answers), then connects NATS (retrying forever) and starts the relay.
 * @throws {Error} when the port cannot be bound.
 */
export async function startRealtime(options: RealtimeOptions): Promise<RealtimeServer> {
  const { config, logger } = options;
  const edgeId = options.edgeId ?? randomUUID();
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const log = logger.child({ edgeId });
  const edge: EdgeConfig = { ...loadEdgeConfig(), ...options.edge };

  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', (err: Error) => log.debug({ err: err.message }, 'redis error'));
  const redisReady = new Promise<void>((resolve) => {
    redis.once('ready', () => resolve());
    setTimeout(resolve, 3000).unref();
  });
  redis.connect().catch((err: unknown) => log.warn({ err }, 'redis not reachable yet; retrying'));
  const presence = new Presence(redis, edgeId, log, options.presence);

  const sockets = new Set<uWS.WebSocket<Connection>>();
  let shuttingDown = false;
  let nc: NatsConnection | undefined;
  let natsConnected = false;

  const app = uWS.App();
  const batcher = new PublishBatcher(
    (topic, frame) => void app.publish(topic, frame, false),
    edge.REALTIME_FANOUT_BATCH_MS,
    (topic) => app.numSubscribers(topic),
    edge.REALTIME_FANOUT_BATCH_MIN_VIEWERS,
    (err) => log.error({ err }, 'fan-out publish failed'),
  );
  const publish = (channel: string, frame: string): void => {
    batcher.publish(channelTopic(channel), frame);
  };
  const directory = new ChannelDirectory(() => nc);
  const held = new HeldMessages(publish, options.heldMessages);
  const fanOut = new FanOut(publish, held, directory, (frame) => batcher.publish(DIRECTORY_TOPIC, frame));
  const relay = new EdgeInterest((d) => fanOut.route(d), (d) => fanOut.routeDirectory(d), log);
  const pusher = new PresencePusher(presence, publish, log, options.presencePush);
  const ipLimiter = new IpRateLimiter(edge.REALTIME_CONNECTIONS_PER_IP_PER_10S);
  const commands = new ChatCommandClient(() => nc, edge.REALTIME_CHAT_SEND_TIMEOUT_MS, { maxInFlightPerChannel: edge.REALTIME_CHAT_MAX_IN_FLIGHT_PER_CHANNEL, maxInFlight: edge.REALTIME_CHAT_MAX_IN_FLIGHT });
  const chat = new ChatSendHandler(commands, directory, log, options.chat ?? { ratePerSecond: edge.REALTIME_CHAT_SENDS_PER_S, burst: edge.REALTIME_CHAT_SENDS_PER_S });
  const audience = new AudienceTracker({ redis, presence, directory, connection: () => nc, edgeId, logger: log }, config.JWT_SECRET, { ...loadAudienceOptions(), ...options.audience });

  const isReady = (): boolean => natsConnected && relay.consuming && !shuttingDown;

  app.ws<Connection>(
    '/ws',
    createGateway({
      presence,
      pusher,
      verifier: new TokenVerifier(config.JWT_SECRET),
      chat,
      ipLimiter,
      clientAddress: clientAddressResolver(edge.TRUSTED_PROXIES),
      prefetchChannel: (channel) => void directory.resolve(channel).catch(() => undefined),
      logger: log,
      limits,
      sockets,
      isShuttingDown: () => shuttingDown,
      audience,
      interest: relay,
    }),
  );
  app.get('/health', (res) => sendJson(res, 200, { status: 'ok' }));
  app.get('/ready', (res) => {
    const checks = { nats: natsConnected, relay: relay.consuming, redis: redis.status === 'ready' };
    sendJson(res, isReady() ? 200 : 503, { status: isReady() ? 'ready' : 'not_ready', checks });
  });
  app.get(
    '/channels/:username/viewers',
    handleAsync(
      (req) => req.getParameter(0) ?? '',
      async (channel): Promise<[number, unknown]> => {
        if (!isValidChannel(channel)) return [400, errorBody(400, 'username must be 3-24 characters a-z, 0-9 or _')];
        try {
          return [200, { channel, viewers: await presence.viewers(channel) }];
        } catch (err) {
          log.warn({ err }, 'viewer count unavailable');
          return [503, errorBody(503, 'viewer counts are unavailable')];
        }
      },
      (err) => log.error({ err }, 'http handler failed'),
    ),
  );
  app.get('/metrics', metricsRoute());
  app.options('/*', (res) => sendPreflight(res));
  app.any('/*', (res) => sendJson(res, 404, errorBody(404, 'not found')));

  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen(config.HOST, config.REALTIME_PORT, (s) => {
      if (s) resolve(s);
      else reject(new Error(`realtime: cannot listen on ${config.HOST}:${config.REALTIME_PORT}`));
    });
  });
  const port = uWS.us_socket_local_port(listenSocket);
  log.info({ port, host: config.HOST }, 'realtime listening');

  const watchNats = async (conn: NatsConnection): Promise<void> => {
    for await (const s of conn.status()) {
      if (s.type === 'disconnect') {
        natsConnected = false;
        log.warn({ server: s.server }, 'nats disconnected');
      } else if (s.type === 'reconnect') {
        natsConnected = true;
        log.info({ server: s.server }, 'nats reconnected');
      }
    }
  };
  const ready = (async () => {
    log.info({ servers: config.NATS_URL }, 'connecting to nats (retrying until reachable)');
    nc = await connect({
      ...natsConnectionOptions(config, 'realtime'),
      name: `realtime-${edgeId}`,
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
    });
    if (shuttingDown) {
      await nc.close();
      return;
    }
    natsConnected = true;
    log.info({ server: nc.getServer() }, 'nats connected');
    void watchNats(nc);
    await relay.start(nc);
  })();
  ready.catch((err: unknown) => log.error({ err }, 'nats start failed'));
  if (options.waitForRelay) await Promise.all([ready, redisReady]);
  else await redisReady;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      shuttingDown = true;
      uWS.us_listen_socket_close(listenSocket);
      await relay.stop();
      held.close();
      batcher.flush();
      pusher.close();
      ipLimiter.close();
      for (const ws of [...sockets]) ws.end(CLOSE_GOING_AWAY, 'server shutting down');
      await audience.close();
      await presence.close();
      if (nc) await nc.drain().catch((err: unknown) => log.warn({ err }, 'nats drain failed'));
      await redis.quit().catch(() => redis.disconnect());
      app.close();
      log.info('realtime stopped');
    })());

  return { port, edgeId, ready: ready.catch(() => undefined), isReady, close };
}
