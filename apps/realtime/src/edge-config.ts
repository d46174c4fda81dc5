/**
 * Realtime-only settings read from the environment (the shared ones — ports, NATS, Redis, `JWT_SECRET` — come from
 * `loadConfig()` of @eventcast/platform). docs/chat.md, "realtime WebSocket additions".
 */

import { trustedProxiesFromEnv } from '@eventcast/platform';

/** Edge settings of the chat features. */
export interface EdgeConfig {
  /** Upgrade attempts admitted per client IP per 10 s on this edge; `0` disables the limit. Default 20. */
  REALTIME_CONNECTIONS_PER_IP_PER_10S: number;
  /** Deadline of the `chat.send` request to the command side, in ms. Default 3000. */
  REALTIME_CHAT_SEND_TIMEOUT_MS: number;
  /** Coalescing window of the fan-out in ms (./publish-batcher.ts); 0 publishes every frame at once. Default 20. */
  REALTIME_FANOUT_BATCH_MS: number;
  /** Channels with fewer subscribers on this edge are never batched. Default 500. */
  REALTIME_FANOUT_BATCH_MIN_VIEWERS: number;
  /**
   * `chat.send` frames admitted per connection per second (token bucket, burst equal to the rate). Default 10. Raised
   * only where one connection legitimately carries many senders' messages (a bot gateway, the command-path benchmark).
   */
  REALTIME_CHAT_SENDS_PER_S: number;
  /**
   * Most `chat.send` requests of one channel awaiting the command side's reply on this edge; more are refused at once
   * with `unavailable` and a `retryAfterMs` (admission limit: a room past its capacity keeps acking at that capacity
   * instead of timing out every send). `0` disables the limit. Default 500.
   */
  REALTIME_CHAT_MAX_IN_FLIGHT_PER_CHANNEL: number;
  /** The same over all channels of this edge (many rooms each below their own limit). `0` disables it. Default 1000. */
  REALTIME_CHAT_MAX_IN_FLIGHT: number;
  /**
   * Reverse proxies whose `X-Forwarded-For` names the client (env `TRUSTED_PROXIES`, `trustedProxiesFromEnv` of
   * @eventcast/platform): the per-IP upgrade limit then counts each viewer behind the proxy, not the proxy. Default none.
   */
  TRUSTED_PROXIES: readonly string[];
}

function nonNegativeInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`invalid configuration: ${name} must be a non-negative integer`);
  return n;
}

/**
 * Reads {@link EdgeConfig} with its defaults.
 * @throws {Error} when a number is not a non-negative integer, or `TRUSTED_PROXIES` lists something else than addresses.
 */
export function loadEdgeConfig(env: NodeJS.ProcessEnv = process.env): EdgeConfig {
  return {
    REALTIME_CONNECTIONS_PER_IP_PER_10S: nonNegativeInt(env, 'REALTIME_CONNECTIONS_PER_IP_PER_10S', 20),
    REALTIME_CHAT_SEND_TIMEOUT_MS: nonNegativeInt(env, 'REALTIME_CHAT_SEND_TIMEOUT_MS', 3000) || 3000,
    REALTIME_FANOUT_BATCH_MS: nonNegativeInt(env, 'REALTIME_FANOUT_BATCH_MS', 20),
    REALTIME_FANOUT_BATCH_MIN_VIEWERS: nonNegativeInt(env, 'REALTIME_FANOUT_BATCH_MIN_VIEWERS', 500),
    REALTIME_CHAT_SENDS_PER_S: nonNegativeInt(env, 'REALTIME_CHAT_SENDS_PER_S', 10) || 10,
    REALTIME_CHAT_MAX_IN_FLIGHT_PER_CHANNEL: nonNegativeInt(env, 'REALTIME_CHAT_MAX_IN_FLIGHT_PER_CHANNEL', 500),
    REALTIME_CHAT_MAX_IN_FLIGHT: nonNegativeInt(env, 'REALTIME_CHAT_MAX_IN_FLIGHT', 1000),
    TRUSTED_PROXIES: trustedProxiesFromEnv(env),
  };
}
