/**
 * The `/ws` WebSocket behaviour: the protocol of docs/contracts.md and docs/chat.md (see ./protocol.ts).
 *
 * Upgrade: refused with 503 while shutting down and with 429 (`Retry-After` in s) when the client IP exceeded its
 * connection attempts (./ip-limiter.ts); a `?token=` JWT is verified right after `open`, like an `auth` frame.
 * Per connection: a `welcome` with a fresh connection id (then `authenticated` or `error invalid_token` when a token
 * came with the upgrade); `auth` signs in; `subscribe`/`unsubscribe` join and leave the uWS topic
 * `channel/<username>` (idempotent: repeating one answers the same frame), count presence and tell the edge's NATS
 * interest (./interest.ts: the first subscriber of a channel on this edge makes its consumer; `subscribed` is sent
 * once that consumer is attached); `chat.send` goes to
 * ./chat-send.ts; `ping` → `pong`. Bad frames get an `error` frame and the connection stays open; a `chat.send` refused
 * for its text first takes a token from the connection's send bucket (`rate_limited` once it is empty).
 * Frame sizes (@eventcast/contracts realtime.ts): up to `maxMessageBytes` parsed; up to `maxPayloadBytes` answered with
 * `message_too_large` (connection kept); larger ones up to uWS's own limit (`maxPayloadLength` = `transportMaxBytes`,
 * 64 KiB) close the connection with 1009 "message too big" and a reason (RFC 6455 §7.4.1), sent by the edge itself;
 * uWS drops a frame above its limit without a close frame (the client sees 1006). That limit is also what uWS buffers
 * per connection for a frame arriving in pieces, hence kept small (memory per connection). Invalid
 * UTF-8 in a text frame: uWS validates text frames before the edge sees them and drops the TCP connection (1006;
 * uws-pack 20.0.8 has no option to change that), so 1007 cannot be sent; browsers cannot produce such frames.
 * A client whose send buffer exceeds `maxBackpressureBytes` is dropped (`closeOnBackpressureLimit`); idle
 * connections are pinged automatically and closed after `idleTimeoutSeconds`.
 */
import { randomUUID } from 'node:crypto';
import type { HttpResponse, WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import { WS_CLOSE_CODES, WS_MAX_FRAME_BYTES, WS_MAX_MESSAGE_BYTES, WS_TRANSPORT_MAX_FRAME_BYTES } from '@eventcast/contracts';
import type { Logger } from '@eventcast/platform';
import { SESSION_ID, type AudienceTracker } from './audience.js';
import type { AuthUser, TokenVerifier } from './auth.js';
import type { ChatSendHandler } from './chat-send.js';
import type { IpRateLimiter } from './ip-limiter.js';
import { edgeMetrics } from './metrics.js';
import type { Presence } from './presence.js';
import type { PresencePusher } from './presence-push.js';
import { channelTopic, DIRECTORY_TOPIC, encodeFrame, parseClientMessage, type ClientMessage, type ErrorCode, type ServerFrame } from './protocol.js';
import type { TokenBucket } from './token-bucket.js';

/** Limits of the `/ws` endpoint. Sizes in bytes, times in seconds. */
export interface GatewayLimits {
  /** Subscriptions per connection. Default 10. */
  maxSubscriptions: number;
  /** Largest client frame answered with `message_too_large` instead of being parsed. Default 4 KiB. */
  maxMessageBytes: number;
  /** Largest frame answered with an error frame; larger frames close the connection with 1009. Default 16 KiB. */
  maxPayloadBytes: number;
  /**
   * uWS `maxPayloadLength`: frames above it are dropped by uWS without a close frame (1006). Default 64 KiB
   * (`WS_TRANSPORT_MAX_FRAME_BYTES`; the most a connection buffers while a frame arrives in pieces).
   */
  transportMaxBytes: number;
  /** Per-socket send buffer before a slow client is disconnected. Default 1 MiB. */
  maxBackpressureBytes: number;
  /** Idle timeout (uWS resolution ~4 s); pings are sent automatically before it. Default 60. */
  idleTimeoutSeconds: number;
}

/** Default {@link GatewayLimits}. */
export const DEFAULT_LIMITS: GatewayLimits = {
  maxSubscriptions: 10,
  maxMessageBytes: WS_MAX_MESSAGE_BYTES,
  maxPayloadBytes: WS_MAX_FRAME_BYTES,
  transportMaxBytes: WS_TRANSPORT_MAX_FRAME_BYTES,
  maxBackpressureBytes: 1024 * 1024,
  idleTimeoutSeconds: 60,
};

/** Per-connection state (uWS user data). */
export interface Connection {
  connectionId: string;
  /** Channels this socket is subscribed to (mirrors its uWS topics). */
  channels: Set<string>;
  /** Set in the close handler; a closed uWS socket must not be used. */
  closed: boolean;
  /** The signed-in user, or null for a guest. A signed-in subscriber counts as a chatter. */
  user: AuthUser | null;
  /** The upgrade's `?token=`, verified right after `open` (then cleared). */
  upgradeToken: string | null;
  /** Edge `chat.send` bucket, created on the first send. */
  sendBucket?: TokenBucket;
  /** The browser's anonymous session id (`?sid=`, 16–64 chars of `A-Za-z0-9_-`) or the connection id: keys a guest's analytics viewer key. */
  sessionId: string;
  /** The analytics viewer key for the current `user`, computed once (an HMAC) and reset when the user changes. */
  viewerKey?: string | undefined;
}

/** What the gateway needs from the server around it. */
export interface GatewayDeps {
  presence: Presence;
  pusher: PresencePusher;
  verifier: TokenVerifier;
  chat: ChatSendHandler;
  ipLimiter: IpRateLimiter;
  /** The client address of an upgrade from its peer address and `X-Forwarded-For` (`clientAddressResolver` of @eventcast/platform). */
  clientAddress: (peer: string, forwardedFor: string | undefined) => string;
  /** Called when a signed-in socket subscribes (warms the channel-id cache for its first send). */
  prefetchChannel: (channel: string) => void;
  logger: Logger;
  limits: GatewayLimits;
  /** Open sockets, maintained here, used by the server to close them on shutdown. */
  sockets: Set<WebSocket<Connection>>;
  /** True once shutdown started: new upgrades are refused with 503. */
  isShuttingDown: () => boolean;
  /** Analytics input (./audience.ts): told of every subscribe/unsubscribe with the socket's viewer key. Optional. */
  audience?: AudienceTracker;
  /**
   * The edge's NATS interest (./interest.ts): `watch`/`unwatch` per socket subscription (the first makes the channel's
   * consumer, the last stops it); `position` is the `subscribed` frame's (decimal global position; a promise while the
   * channel's consumer is not attached yet).
   */
  interest: { watch(channel: string): void; unwatch(channel: string): void; position(channel: string): string | Promise<string> };
}

/** WebSocket close code sent to every client on shutdown ("going away", RFC 6455 §7.4.1). */
export const CLOSE_GOING_AWAY = WS_CLOSE_CODES.goingAway;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Sends one frame; returns false when the socket is closed or the frame was dropped by back-pressure. */
function send(ws: WebSocket<Connection>, frame: ServerFrame): boolean {
  if (ws.getUserData().closed) return false;
  edgeMetrics.sent(frame);
  return ws.send(encodeFrame(frame), false) !== 2;
}

/** {@link send} from an async continuation (outside a uWS callback): corked, so uWS writes it in one syscall. */
function sendLater(ws: WebSocket<Connection>, frame: ServerFrame): void {
  if (ws.getUserData().closed) return;
  ws.cork(() => send(ws, frame));
}

function sendError(ws: WebSocket<Connection>, code: ErrorCode, message: string): void {
  send(ws, { type: 'error', code, message });
}

function authenticatedFrame(user: AuthUser): ServerFrame {
  return { type: 'authenticated', user: { id: user.id, username: user.username } };
}

const INVALID_TOKEN: ServerFrame = { type: 'error', code: 'invalid_token', message: 'the token is invalid or expired' };

/** Writes a plain-text refusal of an upgrade request. */
function refuse(res: HttpResponse, status: string, body: string, retryAfterSeconds?: number): void {
  edgeMetrics.refused(status);
  res.writeStatus(status);
  if (retryAfterSeconds !== undefined) res.writeHeader('Retry-After', String(retryAfterSeconds));
  res.writeHeader('Content-Type', 'text/plain');
  res.end(body);
}

/** Builds the uWS behaviour of `/ws`. */
export function createGateway(deps: GatewayDeps): WebSocketBehavior<Connection> {
  const { presence, pusher, logger, limits, sockets, audience } = deps;
  const viewerKey = (conn: Connection): string | null => (audience?.enabled ? (conn.viewerKey ??= audience.keyOf(conn.user, conn.sessionId)) : null);

  /** Signs the connection in or out, moving its subscriptions between guest and chatter counts. */
  const setUser = (conn: Connection, user: AuthUser | null): void => {
    const delta = (user ? 1 : 0) - (conn.user ? 1 : 0);
    const before = conn.channels.size > 0 ? viewerKey(conn) : null;
    conn.user = user;
    conn.viewerKey = undefined;
    const after = before === null ? null : viewerKey(conn);
    if (before !== null && after !== null && before !== after) {
      for (const channel of conn.channels) {
        audience?.leave(channel, before);
        audience?.join(channel, after);
      }
    }
    if (delta !== 0) for (const channel of conn.channels) presence.changeChatters(channel, delta as 1 | -1);
  };

  const handle = (ws: WebSocket<Connection>, conn: Connection, msg: ClientMessage): void => {
    edgeMetrics.received(msg.type);
    switch (msg.type) {
      case 'ping':
        send(ws, { type: 'pong' });
        return;
      case 'subscribe':
        if (!conn.channels.has(msg.channel)) {
          if (conn.channels.size >= limits.maxSubscriptions) {
            return sendError(ws, 'too_many_subscriptions', `at most ${limits.maxSubscriptions} subscriptions per connection`);
          }
          conn.channels.add(msg.channel);
          ws.subscribe(channelTopic(msg.channel));
          deps.interest.watch(msg.channel);
          presence.join(msg.channel, conn.user !== null);
          const key = viewerKey(conn);
          if (key !== null) audience?.join(msg.channel, key);
          if (conn.user) deps.prefetchChannel(msg.channel);
        }
        {
          const channel = msg.channel;
          const position = deps.interest.position(channel);
          if (typeof position === 'string') {
            send(ws, { type: 'subscribed', channel, position });
            pusher.subscribed(channel);
          } else {
            // The channel's consumer is being made: confirm once it is attached (its position is known then).
            void position.then((p) => {
              if (conn.closed || !conn.channels.has(channel)) return;
              sendLater(ws, { type: 'subscribed', channel, position: p });
              pusher.subscribed(channel);
            });
          }
        }
        return;
      case 'subscribe_directory':
        ws.subscribe(DIRECTORY_TOPIC);
        send(ws, { type: 'directory_subscribed' });
        return;
      case 'unsubscribe_directory':
        ws.unsubscribe(DIRECTORY_TOPIC);
        send(ws, { type: 'directory_unsubscribed' });
        return;
      case 'unsubscribe':
        if (conn.channels.delete(msg.channel)) {
          ws.unsubscribe(channelTopic(msg.channel));
          deps.interest.unwatch(msg.channel);
          presence.leave(msg.channel, conn.user !== null);
          const key = viewerKey(conn);
          if (key !== null) audience?.leave(msg.channel, key);
        }
        send(ws, { type: 'unsubscribed', channel: msg.channel });
        return;
      case 'auth':
        deps.verifier.verify(msg.token).then(
          (user) => {
            if (conn.closed) return;
            setUser(conn, user);
            sendLater(ws, authenticatedFrame(user));
          },
          () => sendLater(ws, INVALID_TOKEN),
        );
        return;
      case 'chat.send':
        if (conn.user?.expiresAt != null && conn.user.expiresAt <= Date.now()) setUser(conn, null);
        void deps.chat.handle(conn, msg).then((frame) => sendLater(ws, frame));
        return;
    }
  };

  return {
    maxPayloadLength: Math.max(limits.transportMaxBytes, limits.maxPayloadBytes + 1),
    maxBackpressure: limits.maxBackpressureBytes,
    closeOnBackpressureLimit: true,
    idleTimeout: limits.idleTimeoutSeconds,
    sendPingsAutomatically: true,

    upgrade: (res, req, context) => {
      if (deps.isShuttingDown()) return refuse(res, '503 Service Unavailable', 'shutting down');
      const forwardedFor = req.getHeader('x-forwarded-for');
      const ip = deps.clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString(), forwardedFor === '' ? undefined : forwardedFor);
      const waitMs = deps.ipLimiter.tryAcquire(ip);
      if (waitMs > 0) return refuse(res, '429 Too Many Requests', 'too many connection attempts', Math.ceil(waitMs / 1000));
      const token = req.getQuery('token');
      const sid = req.getQuery('sid');
      const connectionId = randomUUID();
      const sessionId = sid && SESSION_ID.test(sid) ? sid : connectionId;
      const data: Connection = { connectionId, channels: new Set(), closed: false, user: null, upgradeToken: token ? token : null, sessionId };
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      // Upgrade at once; the token is verified after `open` like an `auth` frame. (Upgrading asynchronously after the
      // verification made uWS — uws-pack 20.0.8 — drop some signed-in sockets with 1006 right after open.)
      res.upgrade(data, key, protocol, extensions, context);
    },

    open: (ws) => {
      sockets.add(ws);
      edgeMetrics.opened();
      const conn = ws.getUserData();
      logger.debug({ connectionId: conn.connectionId }, 'ws open');
      send(ws, { type: 'welcome', connectionId: conn.connectionId });
      const token = conn.upgradeToken;
      conn.upgradeToken = null;
      if (token) {
        deps.verifier.verify(token).then(
          (user) => {
            if (conn.closed) return;
            setUser(conn, user);
            sendLater(ws, authenticatedFrame(user));
          },
          () => sendLater(ws, INVALID_TOKEN),
        );
      }
    },

    message: (ws, message, isBinary) => {
      if (message.byteLength > limits.maxPayloadBytes) {
        // RFC 6455 §7.4.1: 1009 "message too big". The reason (≤ 123 bytes) names the limit.
        logger.debug({ connectionId: ws.getUserData().connectionId, bytes: message.byteLength }, 'ws frame too big, closing');
        ws.end(WS_CLOSE_CODES.messageTooBig, `message too big: frames are limited to ${limits.maxPayloadBytes} bytes`);
        return;
      }
      if (isBinary) return sendError(ws, 'malformed_json', 'binary frames are not supported; send JSON text frames');
      if (message.byteLength > limits.maxMessageBytes) {
        return sendError(ws, 'message_too_large', `frames are limited to ${limits.maxMessageBytes} bytes`);
      }
      let text: string;
      try {
        text = utf8.decode(message);
      } catch {
        // Not reached with uws-pack 20.0.8: uWS validates text frames and drops invalid UTF-8 before this hook (and
        // binary frames were answered above). Kept as a guard should a uWS version hand such a frame over.
        return sendError(ws, 'malformed_json', 'frame is not valid UTF-8');
      }
      const parsed = parseClientMessage(text);
      if (!parsed.ok) {
        edgeMetrics.received('invalid');
        // A chat.send refused for its text is still a send attempt: it takes a token first (issue 9 item 1(c)).
        const limited = parsed.sendAttempt && parsed.nonce !== undefined ? deps.chat.takeToken(ws.getUserData(), parsed.nonce) : null;
        if (limited) return void send(ws, limited);
        send(ws, { type: 'error', code: parsed.code, message: parsed.message, ...(parsed.nonce !== undefined && { nonce: parsed.nonce }) });
        return;
      }
      handle(ws, ws.getUserData(), parsed.message);
    },

    dropped: (ws) => {
      edgeMetrics.dropped();
      logger.debug({ connectionId: ws.getUserData().connectionId }, 'ws frame dropped by back-pressure');
    },

    close: (ws, code, message) => {
      const conn = ws.getUserData();
      // uWS passes its reason when it dropped the connection itself (e.g. "Received invalid UTF-8").
      if (code === 1006 && message.byteLength > 0) logger.debug({ connectionId: conn.connectionId, reason: Buffer.from(message).toString() }, 'ws dropped by the transport');
      conn.closed = true;
      sockets.delete(ws);
      edgeMetrics.closed(code);
      const key = conn.channels.size > 0 ? viewerKey(conn) : null;
      for (const channel of conn.channels) {
        deps.interest.unwatch(channel);
        presence.leave(channel, conn.user !== null);
        if (key !== null) audience?.leave(channel, key);
      }
      conn.channels.clear();
      logger.debug({ connectionId: conn.connectionId, code }, 'ws closed');
    },
  };
}
