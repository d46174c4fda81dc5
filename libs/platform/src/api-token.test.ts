import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiTokenDisplayPrefix, generateApiToken, generateWebhookSecret, hashApiToken, isApiTokenLike, parseApiToken } from './api-token.js';

describe('API tokens', () => {
  const channelId = '3f2c1b0a-1234-4abc-8def-0123456789ab';

  it('round-trips the channel id and hashes with SHA-256', () => {
    const token = generateApiToken(channelId);
    assert.match(token, /^ect_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(parseApiToken(token), { channelId });
    assert.equal(isApiTokenLike(token), true);
    assert.match(hashApiToken(token), /^[0-9a-f]{64}$/);
    assert.notEqual(hashApiToken(token), hashApiToken(generateApiToken(channelId)));
    assert.equal(apiTokenDisplayPrefix(token), token.slice(0, 12));
  });

  it('refuses malformed tokens and ids', () => {
    assert.equal(parseApiToken('ect_abc'), null);
    assert.equal(parseApiToken(`ec_${'a'.repeat(32)}_${'b'.repeat(43)}`), null);
    assert.equal(isApiTokenLike('eyJhbGciOi'), false);
    assert.throws(() => generateApiToken('not-a-uuid'), /UUID/);
  });

  it('makes Standard Webhooks secrets (whsec_ + base64 of 32 bytes)', () => {
    const s = generateWebhookSecret();
    assert.match(s, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(s.slice(6), 'base64').length, 32);
  });
});
