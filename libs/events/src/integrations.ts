/**
 * Integrations of a channel (stream `integrations-<channelId>`): scoped API tokens for third-party tools and outgoing
 * webhooks, after Owncast's integrations (access tokens with scopes; webhooks per event type).
 *
 * Secrets never travel in clear: a token is kept only as its SHA-256 (`tokenHash`), a webhook signing secret only as an
 * AES-256-GCM ciphertext under `STREAM_KEY_SECRET` (the dispatcher must sign with it, so a hash would not do).
 */
import { z } from 'zod';
import { textRefinement } from '@eventcast/contracts';

const uuid = z.uuid();
const iso = z.iso.datetime({ offset: true });

/**
 * Scopes of an API token:
 * - `chat:send`: send chat messages in the owner's channel as the channel's bot (with the token's bot name);
 * - `chat:read`: read the channel's chat history with the token;
 * - `channel:write`: set the channel's title and category.
 */
export const API_TOKEN_SCOPES = ['chat:send', 'chat:read', 'channel:write'] as const;
export const apiTokenScopeSchema = z.enum(API_TOKEN_SCOPES);
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
export const webhookEventTypeSchema = z.enum(WEBHOOK_EVENT_TYPES);
export type WebhookEventType = z.infer<typeof webhookEventTypeSchema>;

/** Most live (not revoked / not deleted) tokens and webhooks per channel. */
export const MAX_API_TOKENS_PER_CHANNEL = 25;
export const MAX_WEBHOOKS_PER_CHANNEL = 10;

export const integrationEventSchemas = {
  ApiTokenCreated: z.object({
    channelId: uuid,
    tokenId: uuid,
    /** What the owner calls the token, e.g. "OBS overlay". */
    name: z.string().min(1).max(60).superRefine(textRefinement()),
    scopes: z.array(apiTokenScopeSchema).min(1).max(API_TOKEN_SCOPES.length),
    /** Name the bot's chat messages show (`bot.name` of ChatMessageSent). */
    botName: botNameSchema,
    /** SHA-256 hex of the token; the token itself is shown once, at creation, and never stored. */
    tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
    /** First characters of the token (`ect_` + 8), so the owner can recognise it in a list. */
    prefix: z.string().max(16),
  }),
  ApiTokenRevoked: z.object({ channelId: uuid, tokenId: uuid, revokedAt: iso }),
  WebhookRegistered: z.object({
    channelId: uuid,
    webhookId: uuid,
    /** http(s) URL the deliveries are POSTed to. */
    url: z.url().max(2000).superRefine(textRefinement()),
    eventTypes: z.array(webhookEventTypeSchema).min(1).max(WEBHOOK_EVENT_TYPES.length),
    /** `iv.tag.ciphertext` (AES-256-GCM under STREAM_KEY_SECRET) of the `whsec_…` signing secret. */
    secretCiphertext: z.string().min(10),
  }),
  WebhookDisabled: z.object({ channelId: uuid, webhookId: uuid }),
  WebhookEnabled: z.object({ channelId: uuid, webhookId: uuid }),
  WebhookDeleted: z.object({ channelId: uuid, webhookId: uuid }),
} as const;
