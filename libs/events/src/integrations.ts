/**
 * Integrations of a channel (stream `integrations-<channelId>`): scoped API tokens for third-party tools and outgoing
 * webhooks, after Owncast's integrations (access tokens with scopes; webhooks per event type).
 *
 * Secrets never travel in clear: a token is kept only as its SHA-256 (`tokenHash`), a webhook signing secret only as an
 * AES-256-GCM ciphertext under `STREAM_KEY_SECRET` (the dispatcher must sign with it, so a hash would not do).
 */
import { z } from 'zod';
import { API_TOKEN_SCOPES, WEBHOOK_EVENT_TYPES, apiTokenScopeSchema, botNameSchema, textRefinement, webhookEventTypeSchema } from '@eventcast/contracts';

const uuid = z.uuid();
const iso = z.iso.datetime({ offset: true });

/**
 * Token scopes, the bot name rule, webhook event types and the per-channel limits are contracts (the web shows and
 * sends them): declared in `@eventcast/contracts` (integrations.ts), re-exported here for the catalog's importers.
 */
export { API_TOKEN_SCOPES, WEBHOOK_EVENT_TYPES, apiTokenScopeSchema, botNameSchema, webhookEventTypeSchema };
export { MAX_API_TOKENS_PER_CHANNEL, MAX_WEBHOOKS_PER_CHANNEL, type ApiTokenScope, type WebhookEventType } from '@eventcast/contracts';

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
