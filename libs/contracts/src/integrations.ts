/**
 * Integrations contracts (docs/contracts.md "Integrations"): API token scopes, webhook event types and limits, and
 * the HTTP shapes of `/me/integrations/*` (command-api) and the webhook delivery log (query-api). The events that
 * record them are in libs/events/src/integrations.ts, which takes its scopes, event types and limits from here.
 * Browser-safe: zod only.
 */
import { z } from './zod.js';

/**
 * Scopes of an API token:
 * - `chat:send`: send chat messages in the owner's channel as the channel's bot (with the token's bot name);
 * - `chat:read`: read the channel's chat history with the token;
 * - `channel:write`: set the channel's title and category.
 */
export const API_TOKEN_SCOPES = ['chat:send', 'chat:read', 'channel:write'] as const;
/** See {@link API_TOKEN_SCOPES}. */
export const apiTokenScopeSchema = z.enum(API_TOKEN_SCOPES);
/** One of {@link API_TOKEN_SCOPES}. */
export type ApiTokenScope = z.infer<typeof apiTokenScopeSchema>;

/** Display name of a bot in chat: 3–24 characters of `a-z`, `0-9`, `_` (like usernames). */
export const botNameSchema = z
  .string()
  .min(3, 'botName must be at least 3 characters')
  .max(24, 'botName must be at most 24 characters')
  .regex(/^[a-z0-9_]+$/, 'botName may contain only a-z, 0-9 and _');

/**
 * Event types a webhook may subscribe to. Deliveries carry a redacted payload of each (see the query-api webhook
 * payloads): public facts of the channel only, never account ids of viewers, IP addresses or secrets.
 */
export const WEBHOOK_EVENT_TYPES = [
  'ChatMessageSent',
  'ChatMessageDeleted',
  'ChatUserBanned',
  'ChatUserTimedOut',
  'BroadcastStarted',
  'BroadcastEnded',
  'ChannelInfoUpdated',
  'ChannelFollowed',
  'ChannelUnfollowed',
] as const;
/** See {@link WEBHOOK_EVENT_TYPES}. */
export const webhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);
/** One of {@link WEBHOOK_EVENT_TYPES}. */
export type WebhookEventType = z.infer<typeof webhookEventTypeSchema>;

/** Most live (not revoked) API tokens per channel. */
export const MAX_API_TOKENS_PER_CHANNEL = 25;
/** Most live (not deleted) webhooks per channel. */
export const MAX_WEBHOOKS_PER_CHANNEL = 10;

/** Body of `POST /me/integrations/tokens`. `botName` defaults to `<username>_bot`. */
export interface CreateApiTokenRequest {
  /** 1–60 characters under the text rule. */
  name: string;
  scopes: ApiTokenScope[];
  botName?: string;
}

/** A token as listed (never the token itself). */
export interface ApiToken {
  id: string;
  name: string;
  scopes: ApiTokenScope[];
  botName: string;
  /** First 12 characters, to recognise the token. */
  prefix: string;
  /** ISO-8601, or null while the token is live. */
  revokedAt: string | null;
}

/** Reply of `POST /me/integrations/tokens`: the only time `token` is shown. */
export interface CreatedApiToken extends ApiToken {
  token: string;
}

/** `GET /me/integrations/tokens`. */
export interface ApiTokenList {
  tokens: ApiToken[];
}

/** Body of `POST /me/integrations/webhooks`: an http(s) URL (≤ 2000 characters) and the event types. */
export interface CreateWebhookRequest {
  url: string;
  eventTypes: WebhookEventType[];
}

/** A webhook as listed (never its secret). */
export interface Webhook {
  id: string;
  url: string;
  eventTypes: WebhookEventType[];
  enabled: boolean;
}

/** Reply of `POST /me/integrations/webhooks`: the only time the Standard Webhooks signing `secret` is shown. */
export interface CreatedWebhook extends Webhook {
  secret: string;
}

/** `GET /me/integrations/webhooks`. */
export interface WebhookList {
  webhooks: Webhook[];
}

/**
 * State of one delivery: `pending` until a 2xx (`succeeded`), the last attempt (`failed`) or the webhook went away
 * (`cancelled`).
 */
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'cancelled';

/** One HTTP attempt of a delivery. */
export interface DeliveryAttempt {
  attempt: number;
  startedAt: string;
  /** The receiver's HTTP status, null when no answer came. */
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  succeeded: boolean;
}

/** One event delivered (or being delivered) to one webhook. `globalPosition` decimal. */
export interface WebhookDelivery {
  id: string;
  eventId: string;
  eventType: string;
  globalPosition: string;
  status: DeliveryStatus;
  createdAt: string;
  completedAt: string | null;
  attempts: DeliveryAttempt[];
}

/** `GET /me/integrations/webhooks/:id/deliveries` (query-api), newest first. */
export interface WebhookDeliveryPage {
  deliveries: WebhookDelivery[];
  nextBefore: string | null;
}
