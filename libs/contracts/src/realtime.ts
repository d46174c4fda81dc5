/**
 * The realtime edge's WebSocket (`/ws`), shared by the edge and its clients: frame size limits, the close codes the
 * edge sends (RFC 6455 §7.4.1), and the frames both ways with their error codes. docs/contracts.md "realtime
 * WebSocket" is the prose of this module.
 */
import type { ChatRefusalCode } from './chat.js';

/** Frames up to this size (bytes) are parsed; larger ones up to {@link WS_MAX_FRAME_BYTES} get `message_too_large`. */
export const WS_MAX_MESSAGE_BYTES = 4 * 1024;

/** Largest frame (bytes) the edge answers with an error frame; a larger one closes with {@link WS_CLOSE_CODES.messageTooBig}. */
export const WS_MAX_FRAME_BYTES = 16 * 1024;

/**
 * The transport's own cut-off (bytes, uWebSockets.js `maxPayloadLength`): a frame above it is dropped by uWS without a
 * close frame (the client sees 1006). Frames between {@link WS_MAX_FRAME_BYTES} and this size get 1009 with a reason.
 * It is also the most uWS buffers per connection while a frame arrives in pieces, so it stays small (64 KiB): at
 * 1 MiB, connections from one address holding half-sent frames could pin about a gigabyte of the edge's memory.
 */
export const WS_TRANSPORT_MAX_FRAME_BYTES = 64 * 1024;

/** Close codes sent by the edge (RFC 6455 §7.4.1), each with a reason text. */
export const WS_CLOSE_CODES = {
  /** 1001 going away: the edge is shutting down (reconnect to another edge). */
  goingAway: 1001,
  /**
   * 1007 invalid frame payload data: a text frame that is not UTF-8. Declared for clients; the uWebSockets.js transport
   * validates UTF-8 itself and drops such a connection before the edge sees the frame (1006, see docs/contracts.md).
   */
  invalidPayload: 1007,
  /**
   * 1009 message too big: a frame larger than {@link WS_MAX_FRAME_BYTES} (up to {@link WS_TRANSPORT_MAX_FRAME_BYTES};
   * above that uWS drops the connection without a close frame, 1006).
   */
  messageTooBig: 1009,
} as const;
/** One of {@link WS_CLOSE_CODES}. */
export type WsCloseCode = (typeof WS_CLOSE_CODES)[keyof typeof WS_CLOSE_CODES];

// ---- frames (docs/contracts.md "realtime WebSocket `/ws`", docs/chat.md "realtime WebSocket additions") ----------
// JSON text frames. The edge parses client frames (apps/realtime/src/protocol.ts `parseClientMessage`) and sends
// {@link ServerFrame}s; the web client (apps/web/src/lib/realtime.ts) sends {@link ClientFrame}s and reads them.

/** Error codes of `error` frames. Every one leaves the connection open. */
export type RealtimeErrorCode =
  /** The frame is not valid UTF-8 JSON, is binary, or is not a JSON object. */
  | 'malformed_json'
  /** `type` is missing or not one of the client frame types. */
  | 'unknown_type'
  /** `channel` is missing or is not a username (3–24 characters `a-z`, `0-9`, `_`, lower-case). */
  | 'invalid_channel'
  /** The connection already has the maximum number of subscriptions. */
  | 'too_many_subscriptions'
  /** The frame exceeds {@link WS_MAX_MESSAGE_BYTES} (frames above {@link WS_MAX_FRAME_BYTES} close the socket with 1009). */
  | 'message_too_large'
  /** `auth` (or `?token=`) with a missing, malformed, wrongly signed or expired JWT. */
  | 'invalid_token'
  /** `chat.send` from a guest (or after the token expired). */
  | 'unauthenticated'
  /** `chat.send` to a channel this connection is not subscribed to. */
  | 'not_subscribed'
  /**
   * `chat.send` whose `nonce` is not a string of 1–64 characters, whose `text` is not a string or breaks the text rule
   * (control characters, bidi overrides/isolates, unpaired surrogates; the message says which character).
   */
  | 'invalid_request'
  /** Edge rate limit (10 sends/s per connection) or the room's rate limit; `retryAfterMs` says when to retry. */
  | 'rate_limited'
  /** The command side did not answer in time (or is unreachable, or its store is): nothing was sent. */
  | 'unavailable'
  /** Refusals decided by the chat room (`chat.send` reply codes, ./chat.ts). */
  | ChatRefusalCode;

/**
 * A client frame as the edge accepts it (after validation; `auth.token` is checked by the token verifier, so it is
 * `unknown` here). Clients send {@link ClientFrame}.
 */
export type ClientMessage =
  | { type: 'subscribe'; channel: string }
  | { type: 'unsubscribe'; channel: string }
  /** Follow go-live/offline/title changes of every channel (the live directory); not counted as a viewer. */
  | { type: 'subscribe_directory' }
  | { type: 'unsubscribe_directory' }
  | { type: 'ping' }
  | { type: 'auth'; token: unknown }
  /** `nonce`: 1–64 characters (`CHAT_NONCE_MAX_LENGTH`), fresh per message (the send is idempotent per sender and nonce). */
  | { type: 'chat.send'; channel: string; text: string; nonce: string };

/** A frame a client sends: {@link ClientMessage} with the `auth` token as the login JWT. */
export type ClientFrame = Exclude<ClientMessage, { type: 'auth' }> | { type: 'auth'; token: string };

/** Presence numbers of a channel, summed over all edges. */
export interface PresenceCounts {
  /** Open subscriptions (sockets) to the channel. */
  viewers: number;
  /** Subscriptions of signed-in sockets. */
  chatters: number;
}

/** Event types a channel subscriber receives most often; any relayed catalog type may arrive. */
export type ChannelEventType = 'BroadcastStarted' | 'BroadcastEnded' | 'ChannelInfoUpdated' | 'ChannelLatencyModeChanged' | (string & {});

/** The public part of a domain event as relayed to viewers (no metadata, no stream internals). */
export interface RelayedEvent {
  /** Event id (UUID); clients may de-duplicate on it. */
  id: string;
  type: ChannelEventType;
  /** Payload in the catalog's current schema version (the published wire form: credential fields left out). */
  data: Record<string, unknown>;
  /** Global position in the event log, as a decimal string. */
  globalPosition: string;
  /** ISO-8601 time the event was recorded. */
  occurredAt: string;
}

/** Frames the edge sends. */
export type ServerFrame =
  | { type: 'welcome'; connectionId: string }
  /**
   * `position`: the global position (decimal) of the last event this edge relayed before the subscription took effect
   * ("0" before the first). Events after it reach the subscriber; events up to it must be read from the history, whose
   * reply says up to which position its read model is (query-api `GET /channels/:name/chat`: `position`).
   */
  | { type: 'subscribed'; channel: string; position: string }
  | { type: 'directory_subscribed' }
  | { type: 'directory_unsubscribed' }
  | { type: 'unsubscribed'; channel: string }
  | { type: 'event'; channel: string; event: RelayedEvent }
  | { type: 'pong' }
  | { type: 'authenticated'; user: { id: string; username: string } }
  /** `visibleAt` (ISO-8601): when viewers see the message (after the room's delay). */
  | { type: 'chat.ack'; nonce: string; messageId: string; visibleAt: string }
  | ({ type: 'presence'; channel: string } & PresenceCounts)
  /** `nonce` and `retryAfterMs` (ms) when it answers a `chat.send`. */
  | { type: 'error'; code: RealtimeErrorCode; message: string; nonce?: string; retryAfterMs?: number };
