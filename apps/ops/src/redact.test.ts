/**
 * Redaction rules of replay (unit level): per-type fields, name patterns at any depth and in metadata, no mutation,
 * and the per-type verdict the fast path relies on.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { RecordedEvent } from '@eventcast/events';
import { REDACTED, redactEvent, typeMayHoldSecrets } from './redact.js';

const base: Omit<RecordedEvent, 'type' | 'data'> = {
  id: '00000000-0000-4000-8000-000000000001',
  version: 1,
  streamName: 'x-1',
  revision: 0n,
  globalPosition: 1n,
  occurredAt: new Date(0),
  metadata: {},
};

void it('redacts the known fields of each type and sensitive names at any depth, data and metadata, without mutating', () => {
  const data = { webhookId: 'w', url: 'https://hooks.example/T0/B0/secret-path', secretCiphertext: 'a.b.c', nested: [{ userEmail: 'a@b.c', ok: 1 }], keep: 'me' };
  const event = { ...base, type: 'WebhookRegistered', data, metadata: { correlationId: 'c', clientIp: '10.1.2.3', ip: '10.0.0.1' } };
  const r = redactEvent(event);
  assert.deepEqual(r.data, { webhookId: 'w', url: REDACTED, secretCiphertext: REDACTED, nested: [{ userEmail: REDACTED, ok: 1 }], keep: 'me' });
  assert.deepEqual(r.metadata, { correlationId: 'c', clientIp: REDACTED, ip: REDACTED });
  assert.equal(data.url, 'https://hooks.example/T0/B0/secret-path', 'the input is not mutated');
  const unknown = redactEvent({ ...base, type: 'SomethingNew', data: { apiKey: 'k', password: 'p', remote_address: '1.2.3.4', viewer_ips: ['1.1.1.1'], zip: '75001', text: 'hello' } });
  assert.deepEqual(unknown.data, { apiKey: REDACTED, password: REDACTED, remote_address: REDACTED, viewer_ips: REDACTED, zip: '75001', text: 'hello' });
  const clean = { ...base, type: 'ChatCleared', data: { channelId: 'c', username: 'u', moderatorId: 'm', moderatorName: 'n' } };
  assert.equal(redactEvent(clean), clean, 'nothing to redact: the same object');
});

void it('knows from the catalog schemas which types can hold secrets', () => {
  for (const t of ['AccountRegistered', 'StreamKeyIssued', 'StreamKeyRotated', 'PublishRejected', 'ViewerJoinedBroadcast', 'ApiTokenCreated', 'WebhookRegistered', 'NotInTheCatalog']) {
    assert.equal(typeMayHoldSecrets(t), true, t);
  }
  for (const t of ['ChatMessageSent', 'ChatMessageDeleted', 'ChannelFollowed', 'ChannelInfoUpdated', 'BroadcastStarted']) assert.equal(typeMayHoldSecrets(t), false, t);
});
