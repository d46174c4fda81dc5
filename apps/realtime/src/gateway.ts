/**
 * The `/ws` WebSocket behaviour: the viewer side of the protocol in docs/contracts.md (see ./protocol.ts).
 *
 * Per connection: a `welcome` with a fresh connection id; `subscribe`/`unsubscribe` join and leave the uWS topic
 * `channel/<username>` (idempotent: repeating one answers the same frame); `ping` → `pong`. Bad frames get an
 * `error` frame and the connection stays open. Transport limits: frames above `maxPayloadBytes` are closed by uWS
 * with 1009; a client whose send buffer exceeds `maxBackpressureBytes` is dropped (`closeOnBackpressureLimit`);
 * idle connections are pinged automatically and closed after `idleTimeoutSeconds`.
 */
import { randomUUID } from 'node:crypto';
import type { WebSocket, WebSocketBehavior } from 'uWebSockets.js';
import type { Logger } from '@eventcast/platform';
import { channelTopic, encodeFrame, parseClientMessage, type ErrorCode, type ServerFrame } from './protocol.js';
import type { Presence } from './presence.js';

/** Limits of the `/ws` endpoint. Sizes in bytes, times in seconds. */
export interface GatewayLimits {
  /** Subscriptions per connection. Default 10. */
  maxSubscriptions: number;
  /** Largest client frame answered with `message_too_large` instead of being parsed. Default 4 KiB. */
  maxMessageBytes: number;
  /** Transport limit (uWS `maxPayloadLength`): larger frames close the socket with 1009. Default 16 KiB. */
  maxPayloadBytes: number;
  /** Per-socket send buffer before a slow client is disconnected. Default 1 MiB. */
  maxBackpressureBytes: number;
  /** Idle timeout (uWS resolution ~4 s); pings are sent automatically before it. Default 60. */
  idleTimeoutSeconds: number;
}

/** Default {@link GatewayLimits}. */
export const DEFAULT_LIMITS: GatewayLimits = {
  maxSubscriptions: 10,
  maxMessageBytes: 4 * 1024,
  maxPayloadBytes: 16 * 1024,
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
}

/** What the gateway needs from the server around it. */
export interface GatewayDeps {
  presence: Presence;
  logger: Logger;
  limits: GatewayLimits;
  /** Open sockets, maintained here, used by the server to close them on shutdown. */
  sockets: Set<WebSocket<Connection>>;
  /** True once shutdown started: new upgrades are refused with 503. */
  isShuttingDown: () => boolean;
}

/** WebSocket close code sent to every client on shutdown ("going away", RFC 6455). */
export const CLOSE_GOING_AWAY = 1001;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Sends one frame; returns false when the socket is closed or the frame was dropped by back-pressure. */
function send(ws: WebSocket<Connection>, frame: ServerFrame): boolean {
  if (ws.getUserData().closed) return false;
  return ws.send(encodeFrame(frame), false) !== 2;
}

function sendError(ws: WebSocket<Connection>, code: ErrorCode, message: string): void {
  send(ws, { type: 'error', code, message });
}

/** Builds the uWS behaviour of `/ws`. */
export function createGateway(deps: GatewayDeps): WebSocketBehavior<Connection> {
  const { presence, logger, limits, sockets } = deps;

  return {
    maxPayloadLength: limits.maxPayloadBytes,
    maxBackpressure: limits.maxBackpressureBytes,
    closeOnBackpressureLimit: true,
    idleTimeout: limits.idleTimeoutSeconds,
    sendPingsAutomatically: true,

    upgrade: (res, req, context) => {
      if (deps.isShuttingDown()) {
        res.writeStatus('503 Service Unavailable').end('shutting down');
        return;
      }
      const data: Connection = { connectionId: randomUUID(), channels: new Set(), closed: false };
      res.upgrade(
        data,
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },

    open: (ws) => {
      sockets.add(ws);
      const { connectionId } = ws.getUserData();
      logger.debug({ connectionId }, 'ws open');
      send(ws, { type: 'welcome', connectionId });
    },

    message: (ws, message, isBinary) => {
      if (isBinary) return sendError(ws, 'malformed_json', 'binary frames are not supported; send JSON text frames');
      if (message.byteLength > limits.maxMessageBytes) {
        return sendError(ws, 'message_too_large', `frames are limited to ${limits.maxMessageBytes} bytes`);
      }
      let text: string;
      try {
        text = utf8.decode(message);
      } catch {
        return sendError(ws, 'malformed_json', 'frame is not valid UTF-8');
      }
      const parsed = parseClientMessage(text);
      if (!parsed.ok) return sendError(ws, parsed.code, parsed.message);
      const conn = ws.getUserData();
      const msg = parsed.message;
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
            presence.join(msg.channel);
          }
          send(ws, { type: 'subscribed', channel: msg.channel });
          return;
        case 'unsubscribe':
          if (conn.channels.delete(msg.channel)) {
            ws.unsubscribe(channelTopic(msg.channel));
            presence.leave(msg.channel);
          }
          send(ws, { type: 'unsubscribed', channel: msg.channel });
          return;
      }
    },

    dropped: (ws) => {
      logger.debug({ connectionId: ws.getUserData().connectionId }, 'ws frame dropped by back-pressure');
    },

    close: (ws, code) => {
      const conn = ws.getUserData();
      conn.closed = true;
      sockets.delete(ws);
      for (const channel of conn.channels) presence.leave(channel);
      conn.channels.clear();
      logger.debug({ connectionId: conn.connectionId, code }, 'ws closed');
    },
  };
}
