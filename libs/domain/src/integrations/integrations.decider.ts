/**
 * A channel's integrations (stream `integrations-<channelId>`): scoped API tokens and outgoing webhooks.
 *
 * Tokens: created with a name, scopes and a bot name (the caller generates the token and passes only its SHA-256);
 * revoked for good (revoking twice is a no-op, so a retried request is harmless). Webhooks: registered with an http(s)
 * URL and the event types they want, disabled/enabled, deleted for good. At most {@link MAX_API_TOKENS_PER_CHANNEL}
 * live tokens and {@link MAX_WEBHOOKS_PER_CHANNEL} webhooks per channel. No I/O: URL and secret are made by the caller.
 */
import {
  MAX_API_TOKENS_PER_CHANNEL,
  MAX_WEBHOOKS_PER_CHANNEL,
  type ApiTokenScope,
  type WebhookEventType,
} from '@eventcast/events';
import { assertNever, DomainError, type Decider, type EventOf } from '../decider.js';

export type IntegrationsCommand =
  | {
      type: 'CreateApiToken';
      channelId: string;
      tokenId: string;
      name: string;
      scopes: readonly ApiTokenScope[];
      botName: string;
      /** SHA-256 hex of the generated token. */
      tokenHash: string;
      prefix: string;
    }
  | { type: 'RevokeApiToken'; channelId: string; tokenId: string; now: Date }
  | { type: 'RegisterWebhook'; channelId: string; webhookId: string; url: string; eventTypes: readonly WebhookEventType[]; secretCiphertext: string }
  | { type: 'DisableWebhook'; channelId: string; webhookId: string }
  | { type: 'EnableWebhook'; channelId: string; webhookId: string }
  | { type: 'DeleteWebhook'; channelId: string; webhookId: string };

export type IntegrationsEvent = EventOf<'ApiTokenCreated' | 'ApiTokenRevoked' | 'WebhookRegistered' | 'WebhookDisabled' | 'WebhookEnabled' | 'WebhookDeleted'>;

/** A token as the aggregate knows it (no secret: only its hash). */
export interface ApiTokenState {
  tokenId: string;
  name: string;
  scopes: readonly ApiTokenScope[];
  botName: string;
  tokenHash: string;
  prefix: string;
  /** ISO-8601 revocation time, null while usable. */
  revokedAt: string | null;
}

/** A webhook as the aggregate knows it (deleted ones are dropped). */
export interface WebhookState {
  webhookId: string;
  url: string;
  eventTypes: readonly WebhookEventType[];
  secretCiphertext: string;
  enabled: boolean;
}

/** Tokens (revoked ones kept, so a revoked token stays recognisably revoked) and live webhooks, by id. */
export interface IntegrationsState {
  tokens: ReadonlyMap<string, ApiTokenState>;
  webhooks: ReadonlyMap<string, WebhookState>;
}

/** Number of tokens not revoked. */
export function liveTokenCount(state: IntegrationsState): number {
  let n = 0;
  for (const t of state.tokens.values()) if (t.revokedAt === null) n++;
  return n;
}

function requireWebhook(state: IntegrationsState, webhookId: string): WebhookState {
  const w = state.webhooks.get(webhookId);
  if (!w) throw new DomainError('webhook_not_found', 'no such webhook');
  return w;
}

/**
 * Decider of a channel's integrations. Errors: `too_many_tokens`, `token_exists` (id or hash reused),
 * `token_not_found`, `too_many_webhooks`, `webhook_exists`, `webhook_not_found`.
 */
export const integrationsDecider: Decider<IntegrationsCommand, IntegrationsEvent, IntegrationsState> = {
  initialState: () => ({ tokens: new Map(), webhooks: new Map() }),

  decide(command, state) {
    const { channelId } = command;
    switch (command.type) {
      case 'CreateApiToken': {
        if (liveTokenCount(state) >= MAX_API_TOKENS_PER_CHANNEL) {
          throw new DomainError('too_many_tokens', `at most ${MAX_API_TOKENS_PER_CHANNEL} API tokens per channel; revoke one first`);
        }
        if (state.tokens.has(command.tokenId) || [...state.tokens.values()].some((t) => t.tokenHash === command.tokenHash)) {
          throw new DomainError('token_exists', 'a token with this id or hash already exists');
        }
        const { tokenId, name, botName, tokenHash, prefix } = command;
        return [{ type: 'ApiTokenCreated', data: { channelId, tokenId, name, scopes: [...new Set(command.scopes)], botName, tokenHash, prefix } }];
      }
      case 'RevokeApiToken': {
        const t = state.tokens.get(command.tokenId);
        if (!t) throw new DomainError('token_not_found', 'no such API token');
        if (t.revokedAt !== null) return [];
        return [{ type: 'ApiTokenRevoked', data: { channelId, tokenId: t.tokenId, revokedAt: command.now.toISOString() } }];
      }
      case 'RegisterWebhook': {
        if (state.webhooks.size >= MAX_WEBHOOKS_PER_CHANNEL) {
          throw new DomainError('too_many_webhooks', `at most ${MAX_WEBHOOKS_PER_CHANNEL} webhooks per channel; delete one first`);
        }
        if (state.webhooks.has(command.webhookId)) throw new DomainError('webhook_exists', 'a webhook with this id already exists');
        const { webhookId, url, secretCiphertext } = command;
        return [{ type: 'WebhookRegistered', data: { channelId, webhookId, url, eventTypes: [...new Set(command.eventTypes)], secretCiphertext } }];
      }
      case 'DisableWebhook': {
        const w = requireWebhook(state, command.webhookId);
        return w.enabled ? [{ type: 'WebhookDisabled', data: { channelId, webhookId: w.webhookId } }] : [];
      }
      case 'EnableWebhook': {
        const w = requireWebhook(state, command.webhookId);
        return w.enabled ? [] : [{ type: 'WebhookEnabled', data: { channelId, webhookId: w.webhookId } }];
      }
      case 'DeleteWebhook': {
        const w = requireWebhook(state, command.webhookId);
        return [{ type: 'WebhookDeleted', data: { channelId, webhookId: w.webhookId } }];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'ApiTokenCreated': {
        const { tokenId, name, scopes, botName, tokenHash, prefix } = event.data;
        const tokens = new Map(state.tokens);
        tokens.set(tokenId, { tokenId, name, scopes, botName, tokenHash, prefix, revokedAt: null });
        return { ...state, tokens };
      }
      case 'ApiTokenRevoked': {
        const t = state.tokens.get(event.data.tokenId);
        if (!t) return state;
        const tokens = new Map(state.tokens);
        tokens.set(t.tokenId, { ...t, revokedAt: event.data.revokedAt });
        return { ...state, tokens };
      }
      case 'WebhookRegistered': {
        const { webhookId, url, eventTypes, secretCiphertext } = event.data;
        const webhooks = new Map(state.webhooks);
        webhooks.set(webhookId, { webhookId, url, eventTypes, secretCiphertext, enabled: true });
        return { ...state, webhooks };
      }
      case 'WebhookDisabled':
      case 'WebhookEnabled': {
        const w = state.webhooks.get(event.data.webhookId);
        if (!w) return state;
        const webhooks = new Map(state.webhooks);
        webhooks.set(w.webhookId, { ...w, enabled: event.type === 'WebhookEnabled' });
        return { ...state, webhooks };
      }
      case 'WebhookDeleted': {
        const webhooks = new Map(state.webhooks);
        webhooks.delete(event.data.webhookId);
        return { ...state, webhooks };
      }
      default:
        return assertNever(event);
    }
  },
};
