import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_API_TOKENS_PER_CHANNEL, MAX_WEBHOOKS_PER_CHANNEL } from '@eventcast/events';
import { fold } from '../decider.js';
import { specFor } from '../specification.js';
import { integrationsDecider, liveTokenCount, type IntegrationsEvent } from './integrations.decider.js';

const spec = specFor(integrationsDecider, assert.deepStrictEqual);
const channelId = '00000000-0000-4000-8000-000000000001';
const tokenId = '00000000-0000-4000-8000-0000000000a1';
const webhookId = '00000000-0000-4000-8000-0000000000b1';
const hash = 'a'.repeat(64);
const create = { type: 'CreateApiToken' as const, channelId, tokenId, name: 'overlay', scopes: ['chat:send' as const, 'chat:send' as const], botName: 'overlay_bot', tokenHash: hash, prefix: 'ect_00000000' };
const created: IntegrationsEvent = {
  type: 'ApiTokenCreated',
  data: { channelId, tokenId, name: 'overlay', scopes: ['chat:send'], botName: 'overlay_bot', tokenHash: hash, prefix: 'ect_00000000' },
};
const revokedAt = '2026-11-22T23:00:00.000Z';
const revoked: IntegrationsEvent = { type: 'ApiTokenRevoked', data: { channelId, tokenId, revokedAt } };
const registered: IntegrationsEvent = {
  type: 'WebhookRegistered',
  data: { channelId, webhookId, url: 'https://example.org/hook', eventTypes: ['ChatMessageSent'], secretCiphertext: 'iv.tag.ciphertext' },
};
const id = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;

describe('integrations decider', () => {
  it('creates a token with its scopes de-duplicated', () => {
    spec.given([]).when(create).then([created]);
  });

  it('refuses a reused token id or hash', () => {
    spec.given([created]).when(create).thenThrows('token_exists');
    spec.given([created]).when({ ...create, tokenId: id(99) }).thenThrows('token_exists');
  });

  it('revokes once; revoking again records nothing; unknown tokens are refused', () => {
    spec.given([created]).when({ type: 'RevokeApiToken', channelId, tokenId, now: new Date(revokedAt) }).then([revoked]);
    spec.given([created, revoked]).when({ type: 'RevokeApiToken', channelId, tokenId, now: new Date() }).then([]);
    spec.given([]).when({ type: 'RevokeApiToken', channelId, tokenId, now: new Date() }).thenThrows('token_not_found');
  });

  it('caps live tokens per channel; revoked ones do not count', () => {
    const many: IntegrationsEvent[] = Array.from({ length: MAX_API_TOKENS_PER_CHANNEL }, (_, i) => ({
      type: 'ApiTokenCreated',
      data: { ...created.data, tokenId: id(1000 + i), tokenHash: i.toString(16).padStart(64, '0') },
    }));
    spec.given(many).when(create).thenThrows('too_many_tokens');
    const oneRevoked: IntegrationsEvent = { type: 'ApiTokenRevoked', data: { channelId, tokenId: id(1000), revokedAt } };
    spec.given([...many, oneRevoked]).when(create).then([created]);
    assert.equal(liveTokenCount(fold(integrationsDecider, [...many, oneRevoked])), MAX_API_TOKENS_PER_CHANNEL - 1);
  });

  it('registers, disables, enables and deletes a webhook; no-ops record nothing', () => {
    const register = { type: 'RegisterWebhook' as const, channelId, webhookId, url: 'https://example.org/hook', eventTypes: ['ChatMessageSent' as const], secretCiphertext: 'iv.tag.ciphertext' };
    spec.given([]).when(register).then([registered]);
    spec.given([registered]).when(register).thenThrows('webhook_exists');
    const disabled: IntegrationsEvent = { type: 'WebhookDisabled', data: { channelId, webhookId } };
    spec.given([registered]).when({ type: 'DisableWebhook', channelId, webhookId }).then([disabled]);
    spec.given([registered, disabled]).when({ type: 'DisableWebhook', channelId, webhookId }).then([]);
    spec.given([registered, disabled]).when({ type: 'EnableWebhook', channelId, webhookId }).then([{ type: 'WebhookEnabled', data: { channelId, webhookId } }]);
    spec.given([registered]).when({ type: 'EnableWebhook', channelId, webhookId }).then([]);
    const deleted: IntegrationsEvent = { type: 'WebhookDeleted', data: { channelId, webhookId } };
    spec.given([registered]).when({ type: 'DeleteWebhook', channelId, webhookId }).then([deleted]);
    spec.given([registered, deleted]).when({ type: 'DeleteWebhook', channelId, webhookId }).thenThrows('webhook_not_found');
    spec.given([registered, deleted]).when({ type: 'DisableWebhook', channelId, webhookId }).thenThrows('webhook_not_found');
  });

  it('caps webhooks per channel', () => {
    const many: IntegrationsEvent[] = Array.from({ length: MAX_WEBHOOKS_PER_CHANNEL }, (_, i) => ({
      type: 'WebhookRegistered',
      data: { ...registered.data, webhookId: id(2000 + i) },
    }));
    spec.given(many).when({ type: 'RegisterWebhook', channelId, webhookId, url: 'https://example.org/x', eventTypes: ['BroadcastStarted'], secretCiphertext: 'iv.tag.ciphertext' }).thenThrows('too_many_webhooks');
  });
});
