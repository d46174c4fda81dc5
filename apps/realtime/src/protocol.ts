/**
 * The realtime WebSocket protocol of docs/contracts.md ("realtime WebSocket `/ws`") and docs/chat.md ("realtime
 * WebSocket additions"): JSON text frames.
 *
 * Client → server: `subscribe`, `unsubscribe` (both with `channel` = a username), `ping`, `auth {token}`,
 * `chat.send {channel, text, nonce}`.
 * Server → client: `welcome`, `subscribed`, `unsubscribed`, `event`, `pong`, `authenticated`, `chat.ack`,
 * `presence`, `error` (with `nonce` and `retryAfterMs` when it answers a `chat.send`).
 * This module is pure: parsing and frame shapes only, no sockets.
 */

import { CHAT_NONCE_MAX_LENGTH, freeTextReason } from '@eventcast/contracts';

/** A channel name is a username: 3–24 characters of `a-z`, `0-9`, `_` (lower-case only, as stored). */
export const CHANNEL_PATTERN = /^[a-z0-9_]{3,24}$/;

/** Error codes of `error` frames. Every one leaves the connection open. */
export type ErrorCode =
  /** The frame is not valid UTF-8 JSON, is binary, or is not a JSON object. */
  | 'malformed_json'
  /** `type` is missing or not one of `subscribe`, `unsubscribe`, `ping`, `auth`, `chat.send`. */
  | 'unknown_type'
  /** `channel` is missing or does not match {@link CHANNEL_PATTERN}. */
  | 'invalid_channel'
  /** The connection already has the maximum number of subscriptions. */
  | 'too_many_subscriptions'
  /** The frame exceeds the application limit (frames above the transport limit close the socket with 1009). */
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
  /** Refusals decided by the chat room (docs/chat.md, `chat.send` reply codes). */
  | ChatRefusalCode;

/** Codes of a refused `chat.send` reply from the command side (docs/chat.md "NATS request/reply"). */
export const CHAT_REFUSAL_CODES = [
  'banned',
  'timed_out',
  'empty',
  'too_long',
  'chat_disabled',
  'followers_only',
  'emote_only',
  'slow_mode',
  'rate_limited',
  'blocked_term',
  'channel_not_found',
  'invalid_request',
  'internal_error',
  /** The command side could not reach its event store (e.g. PostgreSQL restarting): nothing was sent, retry. */
  'unavailable',
] as const;
/** One of {@link CHAT_REFUSAL_CODES}. */
export type ChatRefusalCode = (typeof CHAT_REFUSAL_CODES)[number];

/** Largest `nonce` echoed in `chat.ack` / `error` frames, in characters: the contract's `chat.send` nonce bound. */
export const MAX_NONCE_LENGTH = CHAT_NONCE_MAX_LENGTH;

/** A validated client message. `auth.token` is checked by the token verifier, not here. */
export type ClientMessage =
  | { type: 'subscribe'; channel: string }
  | { type: 'unsubscribe'; channel: string }
  /** Follow go-live/offline/title changes of every channel (the live directory); not counted as a viewer. */
  | { type: 'subscribe_directory' }
  | { type: 'unsubscribe_directory' }
  | { type: 'ping' }
  | { type: 'auth'; token: unknown }
  | { type: 'chat.send'; channel: string; text: string; nonce: string };

/** Presence numbers of a channel, summed over all edges. */
export interface PresenceCounts {
  /** Open subscriptions (sockets) to the channel. */
  viewers: number;
  /** Subscriptions of signed-in sockets. */
  chatters: number;
}

/** The public part of a domain event as relayed to viewers (no metadata, no stream internals). */
export interface RelayedEvent {
  /** Event id (UUID); clients may de-duplicate on it. */
  id: string;
  type: string;
  /** Payload in the catalog's current schema version. */
  data: unknown;
  /** Global position in the event log, as a decimal string. */
  globalPosition: string;
  /** ISO-8601 time the event was recorded. */
  occurredAt: string;
}

/** Frames the server sends. */
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
  | { type: 'chat.ack'; nonce: string; messageId: string; visibleAt: string }
  | { type: 'presence'; channel: string; viewers: number; chatters: number }
  | { type: 'error'; code: ErrorCode; message: string; nonce?: string; retryAfterMs?: number };

/**
 * Result of {@link parseClientMessage}: the message, or the error frame to send back (`nonce` set when the frame was
 * a `chat.send` with a valid nonce). `sendAttempt` is true when the frame is a `chat.send` with a valid nonce and
 * channel refused for its `text` (not a string, or breaking the text rule): a real send attempt, which counts toward
 * the connection's send rate limit like an accepted one (issue 9 item 1(c): every refused attempt counts), so a flood
 * of invalid text ends in `rate_limited` rather than `invalid_request` forever.
 */
export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: ErrorCode; message: string; nonce?: string; sendAttempt?: true };

/** True when `channel` is a string matching {@link CHANNEL_PATTERN}. */
export function isValidChannel(channel: unknown): channel is string {
  return typeof channel === 'string' && CHANNEL_PATTERN.test(channel);
}

/** The uWS topic of the directory feed: BroadcastStarted/Ended and ChannelInfoUpdated of every channel. */
export const DIRECTORY_TOPIC = 'directory';

/** Event types also published to {@link DIRECTORY_TOPIC}. */
export const DIRECTORY_EVENTS: ReadonlySet<string> = new Set(['BroadcastStarted', 'BroadcastEnded', 'ChannelInfoUpdated']);

/** The uWS pub/sub topic of a channel: `channel/<username>`. */
export function channelTopic(channel: string): string {
  return `channel/${channel}`;
}

/**
 * Parses one client text frame. Size limits are checked by the caller before decoding.
 * @param text the frame decoded as UTF-8.
 * @returns the validated message, or the error code and a human-readable reason; never throws.
 */
export function parseClientMessage(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: 'malformed_json', message: 'frame is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'malformed_json', message: 'frame must be a JSON object' };
  }
  const o = value as Record<string, unknown>;
  const type = o['type'];
  switch (type) {
    case 'ping':
      return { ok: true, message: { type: 'ping' } };
    case 'subscribe_directory':
    case 'unsubscribe_directory':
      return { ok: true, message: { type } };
    case 'subscribe':
    case 'unsubscribe': {
      const channel = o['channel'];
      if (!isValidChannel(channel)) {
        return {
          ok: false,
          code: 'invalid_channel',
          message: 'channel must be a username of 3-24 characters a-z, 0-9 or _ (lower-case)',
        };
      }
      return { ok: true, message: { type, channel } };
    }
    case 'auth':
      return { ok: true, message: { type: 'auth', token: o['token'] } };
    case 'chat.send':
      return parseChatSend(o);
    default:
      return {
        ok: false,
        code: 'unknown_type',
        message: typeof type === 'string' ? `unknown message type "${type.slice(0, 40)}"` : 'message needs a string "type"',
      };
  }
}

function parseChatSend(o: Record<string, unknown>): ParseResult {
  const { nonce, channel, text } = o;
  if (typeof nonce !== 'string' || nonce.length === 0 || nonce.length > MAX_NONCE_LENGTH) {
    return { ok: false, code: 'invalid_request', message: `nonce must be a string of 1-${MAX_NONCE_LENGTH} characters` };
  }
  if (!isValidChannel(channel)) {
    return { ok: false, code: 'invalid_channel', message: 'channel must be a username of 3-24 characters a-z, 0-9 or _ (lower-case)', nonce };
  }
  if (typeof text !== 'string') return { ok: false, code: 'invalid_request', message: 'text must be a string', nonce, sendAttempt: true };
  // The text rule of @eventcast/contracts (docs/chat.md "Text rules"): refused here, before any request to the
  // command side, with the reason. Length and emptiness stay chat-room rules (`too_long`, `empty`).
  const reason = freeTextReason('text', text);
  if (reason) return { ok: false, code: 'invalid_request', message: reason, nonce, sendAttempt: true };
  return { ok: true, message: { type: 'chat.send', channel, text, nonce } };
}

/** Serializes a server frame to the JSON text sent on the wire. */
export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}
