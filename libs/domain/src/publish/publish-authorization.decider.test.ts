import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fold } from '../decider.js';
import { specFor } from '../specification.js';
import { publishAuthorizationDecider, publishKeyHashOf, type AuthorizePublish, type PublishAuthorizationEvent } from './publish-authorization.decider.js';

const spec = specFor(publishAuthorizationDecider, assert.deepStrictEqual);
const channelId = '6c1f0c6e-3b7a-4d8e-9a51-0b5a6f1d2c3e';
const remoteAddress = '203.0.113.7';
const key = { keyId: 'k1', keyHash: 'a'.repeat(64), keyCiphertext: 'c1' };
const registered: PublishAuthorizationEvent = { type: 'AccountRegistered', data: { accountId: channelId, username: 'alice', passwordHash: '$argon2id$x' } };
const keyIssued: PublishAuthorizationEvent = { type: 'StreamKeyIssued', data: { channelId, ...key } };
const keyRotated: PublishAuthorizationEvent = { type: 'StreamKeyRotated', data: { channelId, keyId: 'k2', keyHash: 'b'.repeat(64), keyCiphertext: 'c2', previousKeyId: 'k1' } };
const media = { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, frameRate: 30, videoBitrateKbps: 2500, audioSampleRate: 48000, audioChannels: 2 };
const b1 = 'b0000000-0000-4000-8000-000000000001';
const started: PublishAuthorizationEvent = { type: 'BroadcastStarted', data: { broadcastId: b1, channelId, username: 'alice', startedAt: '2026-11-22T20:00:00.000Z', media } };
const ended: PublishAuthorizationEvent = {
  type: 'BroadcastEnded',
  data: { broadcastId: b1, channelId, username: 'alice', reason: 'unpublished', endedAt: '2026-11-22T20:30:00.000Z', durationMs: 1_800_000 },
};
const authorize = (proof: AuthorizePublish['proof'], id: string | null = channelId): AuthorizePublish => ({ type: 'AuthorizePublish', channelId: id, remoteAddress, proof });
const rejected = (reason: 'malformed_key' | 'unknown_channel' | 'invalid_key' | 'already_live', id: string | null = channelId): PublishAuthorizationEvent[] => [
  { type: 'PublishRejected', data: { channelId: id, reason, remoteAddress } },
];

describe('publish authorization decider', () => {
  it('allows a valid proof for an offline channel: nothing is recorded', () => {
    spec.given([registered, keyIssued]).when(authorize('valid')).then([]);
  });

  it('allows a new broadcast once the previous one ended', () => {
    spec.given([registered, keyIssued, started, ended]).when(authorize('valid')).then([]);
  });

  it('records malformed_key when no channel could be read from the key', () => {
    spec.given([]).when(authorize(null, null)).then(rejected('malformed_key', null));
  });

  it('records unknown_channel for a channel with no account, whatever the proof', () => {
    spec.given([]).when(authorize(null)).then(rejected('unknown_channel'));
    spec.given([]).when(authorize('valid')).then(rejected('unknown_channel'));
  });

  it('records invalid_key for a proof that does not verify: wrong or rotated key, stale, replayed', () => {
    for (const proof of ['mismatch', 'stale', 'replayed'] as const) {
      spec.given([registered, keyIssued]).when(authorize(proof)).then(rejected('invalid_key'));
    }
    spec.given([registered, keyIssued, keyRotated]).when(authorize('mismatch')).then(rejected('invalid_key'));
  });

  it('records invalid_key when the channel has no key to check against', () => {
    spec.given([registered]).when(authorize(null)).then(rejected('invalid_key'));
    spec.given([registered]).when(authorize('valid')).then(rejected('invalid_key'));
  });

  it('checks the key before the broadcast: a bad proof for a live channel is invalid_key, a good one already_live', () => {
    spec.given([registered, keyIssued, started]).when(authorize('mismatch')).then(rejected('invalid_key'));
    spec.given([registered, keyIssued, started]).when(authorize('valid')).then(rejected('already_live'));
  });

  it('a recorded refusal changes nothing', () => {
    spec.given([registered, keyIssued, ...rejected('invalid_key')]).when(authorize('valid')).then([]);
  });

  it('checks the proof against the current key: the rotated one after a rotation, none for an unknown channel', () => {
    const stateOf = (events: PublishAuthorizationEvent[]) => fold(publishAuthorizationDecider, events);
    assert.equal(publishKeyHashOf(stateOf([registered, keyIssued])), key.keyHash);
    assert.equal(publishKeyHashOf(stateOf([registered, keyIssued, keyRotated])), 'b'.repeat(64));
    assert.equal(publishKeyHashOf(stateOf([registered])), null);
    assert.equal(publishKeyHashOf(stateOf([])), null);
  });
});
