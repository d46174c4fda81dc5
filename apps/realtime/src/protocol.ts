/**
 * The realtime WebSocket protocol of docs/contracts.md ("realtime WebSocket `/ws`"): JSON text frames.
 *
 * Client → server: `subscribe`, `unsubscribe` (both with `channel` = a username) and `ping`.
 * Server → client: `welcome`, `subscribed`, `unsubscribed`, `event`, `pong`, `error`.
 * This module is pure: parsing and frame shapes only, no sockets.
 */

/** A channel name is a username: 3–24 characters of `a-z`, `0-9`, `_` (lower-case only, as stored). */
export const CHANNEL_PATTERN = /^[a-z0-9_]{3,24}$/;

/** Error codes of `error` frames. Every one leaves the connection open. */
export type ErrorCode =
  /** The frame is not valid UTF-8 JSON, is binary, or is not a JSON object. */
  | 'malformed_json'
  /** `type` is missing or not one of `subscribe`, `unsubscribe`, `ping`. */
  | 'unknown_type'
  /** `channel` is missing or does not match {@link CHANNEL_PATTERN}. */
  | 'invalid_channel'
  /** The connection already has the maximum number of subscriptions. */
  | 'too_many_subscriptions'
  /** The frame exceeds the application limit (frames above the transport limit close the socket with 1009). */
  | 'message_too_large';

/** A validated client message. */
export type ClientMessage =
  | { type: 'subscribe'; channel: string }
  | { type: 'unsubscribe'; channel: string }
  | { type: 'ping' };

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
  | { type: 'subscribed'; channel: string }
  | { type: 'unsubscribed'; channel: string }
  | { type: 'event'; channel: string; event: RelayedEvent }
  | { type: 'pong' }
  | { type: 'error'; code: ErrorCode; message: string };

/** Result of {@link parseClientMessage}: the message, or the error frame to send back. */
export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; code: ErrorCode; message: string };

/** True when `channel` is a string matching {@link CHANNEL_PATTERN}. */
export function isValidChannel(channel: unknown): channel is string {
  return typeof channel === 'string' && CHANNEL_PATTERN.test(channel);
}

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
    default:
      return {
        ok: false,
        code: 'unknown_type',
        message: typeof type === 'string' ? `unknown message type "${type.slice(0, 40)}"` : 'message needs a string "type"',
      };
  }
}

/** Serializes a server frame to the JSON text sent on the wire. */
export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame);
}
