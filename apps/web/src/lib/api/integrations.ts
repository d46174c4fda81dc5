/**
 * The owner's integrations (docs/contracts.md "Integrations", "Restream"; the owner's JWT): API tokens and webhooks on
 * command-api, the webhook delivery log on query-api, and restream targets.
 */
import type {
	ApiToken,
	ApiTokenList,
	CreateApiTokenRequest,
	CreateWebhookRequest,
	CreatedApiToken,
	CreatedWebhook,
	RestreamTargetAdd,
	RestreamTargetList,
	RestreamTargetView,
	Webhook,
	WebhookDeliveryPage,
	WebhookList,
} from '@eventcast/contracts';
import { request } from './http.ts';

export { API_TOKEN_SCOPES, WEBHOOK_EVENT_TYPES } from '@eventcast/contracts';
export type { ApiToken, ApiTokenScope, DeliveryAttempt, RestreamTargetAdd, RestreamTargetList, RestreamTargetView, Webhook, WebhookDelivery, WebhookEventType } from '@eventcast/contracts';

const id = (s: string) => encodeURIComponent(s);

export const listApiTokens = (token: string) => request<ApiTokenList>('command', '/me/integrations/tokens', { token });
/** Creates a token; the reply's `token` is shown once. */
export const createApiToken = (token: string, body: CreateApiTokenRequest) =>
	request<CreatedApiToken>('command', '/me/integrations/tokens', { method: 'POST', token, body });
export const revokeApiToken = (token: string, tokenId: string) =>
	request<ApiToken>('command', `/me/integrations/tokens/${id(tokenId)}`, { method: 'DELETE', token });
export const listWebhooks = (token: string) => request<WebhookList>('command', '/me/integrations/webhooks', { token });
/** Registers a webhook; the reply's `secret` is shown once. */
export const createWebhook = (token: string, body: CreateWebhookRequest) =>
	request<CreatedWebhook>('command', '/me/integrations/webhooks', { method: 'POST', token, body });
export const setWebhookEnabled = (token: string, webhookId: string, enabled: boolean) =>
	request<Webhook>('command', `/me/integrations/webhooks/${id(webhookId)}/${enabled ? 'enable' : 'disable'}`, { method: 'POST', token });
export const deleteWebhook = (token: string, webhookId: string) =>
	request<{ ok: true }>('command', `/me/integrations/webhooks/${id(webhookId)}`, { method: 'DELETE', token });
/** The newest `limit` deliveries of a webhook (query-api). */
export const listWebhookDeliveries = (token: string, webhookId: string, limit = 20) =>
	request<WebhookDeliveryPage>('query', `/me/integrations/webhooks/${id(webhookId)}/deliveries?limit=${limit}`, { token });

/** The caller's restream targets with their last live state (never the keys). */
export const listRestreamTargets = (token: string, signal?: AbortSignal) =>
	request<RestreamTargetList>('command', '/me/restream-targets', { token, signal });
/** Adds a target (enabled); the key is sent once and never shown again. */
export const addRestreamTarget = (token: string, body: RestreamTargetAdd) =>
	request<RestreamTargetView>('command', '/me/restream-targets', { method: 'POST', token, body });
export const setRestreamTargetEnabled = (token: string, targetId: string, enabled: boolean) =>
	request<RestreamTargetView>('command', `/me/restream-targets/${id(targetId)}/${enabled ? 'enable' : 'disable'}`, { method: 'POST', token });
export const removeRestreamTarget = (token: string, targetId: string) =>
	request<{ ok: true }>('command', `/me/restream-targets/${id(targetId)}`, { method: 'DELETE', token });
