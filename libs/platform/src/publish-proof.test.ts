import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publishProofSchema, PUBLISH_PROOF_WINDOW_MS } from '@eventcast/contracts';
import { loadConfig, natsConnectionOptions } from './config.js';
import { createPublishProof, ProofReplayCache, verifyPublishProof } from './publish-proof.js';
import { generateStreamKey, hashStreamKey } from './stream-key.js';

const channelId = '0b9d7a52-3c1e-4f6a-9d2b-7e8f1a2b3c4d';
const hash = hashStreamKey(generateStreamKey(channelId));

describe('publish proofs', () => {
  it('verifies once, then refuses the replay; the proof holds neither the key nor its hash', () => {
    const cache = new ProofReplayCache();
    const proof = createPublishProof(hash, channelId);
    assert.ok(publishProofSchema.safeParse(proof).success);
    assert.ok(!JSON.stringify(proof).includes(hash));
    assert.equal(verifyPublishProof(proof, hash, channelId, cache), null);
    assert.equal(verifyPublishProof(proof, hash, channelId, cache), 'replayed');
  });

  it('refuses another key, another channel, a tampered MAC and a stale or future timestamp', () => {
    const cache = new ProofReplayCache();
    const other = hashStreamKey(generateStreamKey(channelId));
    assert.equal(verifyPublishProof(createPublishProof(other, channelId), hash, channelId, cache), 'mismatch');
    assert.equal(verifyPublishProof(createPublishProof(hash, null), hash, channelId, cache), 'mismatch');
    const p = createPublishProof(hash, channelId);
    assert.equal(verifyPublishProof({ ...p, mac: `${p.mac[0] === '0' ? '1' : '0'}${p.mac.slice(1)}` }, hash, channelId, cache), 'mismatch');
    assert.equal(verifyPublishProof({ ...p, issuedAt: p.issuedAt + 1 }, hash, channelId, cache), 'mismatch');
    const now = Date.now();
    assert.equal(verifyPublishProof(createPublishProof(hash, channelId, now - PUBLISH_PROOF_WINDOW_MS - 1), hash, channelId, cache, now), 'stale');
    assert.equal(verifyPublishProof(createPublishProof(hash, channelId, now + PUBLISH_PROOF_WINDOW_MS + 1), hash, channelId, cache, now), 'stale');
  });

  it('a wrong guess does not burn the nonce, and the replay cache forgets nonces after their window', () => {
    const cache = new ProofReplayCache(2);
    const p = createPublishProof(hash, channelId);
    assert.equal(verifyPublishProof({ ...p, mac: '0'.repeat(64) }, hash, channelId, cache), 'mismatch');
    assert.equal(verifyPublishProof(p, hash, channelId, cache), null);
    assert.equal(cache.claim('a', 1000, 0), true);
    assert.equal(cache.claim('a', 1000, 500), false);
    assert.equal(cache.claim('a', 3000, 1001), true, 'expired entries may be claimed again');
  });
});

describe('natsConnectionOptions', () => {
  it('gives servers, the app inbox prefix and, when set, its credentials', () => {
    const anon = natsConnectionOptions(loadConfig({ NATS_URL: 'nats://a:1, nats://b:2' }), 'realtime');
    assert.deepEqual(anon, { servers: ['nats://a:1', 'nats://b:2'], name: 'eventcast-realtime', inboxPrefix: '_INBOX_realtime', noAsyncTraces: true });
    const auth = natsConnectionOptions(loadConfig({ NATS_USER: 'query-api', NATS_PASSWORD: 'pw' }), 'query-api');
    assert.deepEqual([auth.user, auth.pass, auth.servers], ['query-api', 'pw', ['nats://127.0.0.1:4223']]);
  });

  it('refuses half credentials and another app user', () => {
    assert.throws(() => natsConnectionOptions(loadConfig({ NATS_USER: 'ingest' }), 'ingest'), /set together/);
    assert.throws(() => natsConnectionOptions(loadConfig({ NATS_USER: 'command-api', NATS_PASSWORD: 'x' }), 'realtime'), /NATS_USER is "command-api"/);
  });
});
