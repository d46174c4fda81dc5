/**
 * The realtime WebSocket protocol of docs/contracts.md ("realtime WebSocket `/ws`") and docs/chat.md ("realtime
 * WebSocket additions"): JSON text frames.
 *
 * Client → server: `subscribe`, `unsubscribe` (both with `channel` = a username), `ping`, `auth {token}`,
 * `chat.send {channel, text, nonce}`.
 * Server → client: `welcome`, `subscribed`, `unsubscribed`, `event`, `pong`, `authenticated`, `chat.ack`,
 * `presence`, `error` (with `nonce` and `retryAfterMs` when it answers a `chat.send`).
 * The frame shapes live in @eventcast/contracts (realtime.ts), shared with the web client; this module parses client
 * frames and encodes server frames. Pure: no sockets.
 */

import {
  CHAT_NONCE_MAX_LENGTH,
  CHAT_REFUSAL_CODES,
  USERNAME_PATTERN,
  freeTextReason,
  type ChatRefusalCode,
  type ClientMessage,
  type PresenceCounts,
  type RealtimeErrorCode,
  type RelayedEvent,
  type ServerFrame,
} from '@eventcast/contracts';

/** A channel name is a username: 3–24 characters of `a-z`, `0-9`, `_` (lower-case only, as stored). */
export const CHANNEL_PATTERN = USERNAME_PATTERN;

/**
 * The frames and their error codes are declared in @eventcast/contracts (realtime.ts; chat refusal codes in chat.ts),
 * which the web client imports too; re-exported here for the edge's modules.
 */
export { CHAT_REFUSAL_CODES, type ChatRefusalCode, type ClientMessage, type PresenceCounts, type RelayedEvent, type ServerFrame };
/** Error codes of `error` frames (`RealtimeErrorCode` of @eventcast/contracts). Every one leaves the connection open. */
export type ErrorCode = RealtimeErrorCode;

/** Largest `nonce` echoed in `chat.ack` / `error` frames, in characters: the contract's `chat.send` nonce bound. */
export const MAX_NONCE_LENGTH = CHAT_NONCE_MAX_LENGTH;

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
