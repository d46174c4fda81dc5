import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountDecider, type AccountEvent } from './account.decider.js';
import { specFor } from '../specification.js';

const spec = specFor(accountDecider, assert.deepStrictEqual);
const id = '6c1f0c6e-3b7a-4d8e-9a51-0b5a6f1d2c3e';
const key1 = { keyId: 'a0000000-0000-4000-8000-000000000001', keyHash: 'a'.repeat(64), keyCiphertext: 'iv.tag.ciphertext1' };
const key2 = { keyId: 'a0000000-0000-4000-8000-000000000002', keyHash: 'b'.repeat(64), keyCiphertext: 'iv.tag.ciphertext2' };
const registered: AccountEvent[] = [
  { type: 'AccountRegistered', data: { accountId: id, username: 'alice', passwordHash: '$argon2id$v=19$x' } },
  { type: 'StreamKeyIssued', data: { channelId: id, ...key1 } },
];

describe('account decider', () => {
  it('registers an account and issues its first stream key', () => {
    spec
      .given([])
      .when({ type: 'RegisterAccount', accountId: id, username: 'alice', passwordHash: '$argon2id$v=19$x', streamKey: key1 })
      .then(registered);
  });

  it('refuses to register twice', () => {
    spec
      .given(registered)
      .when({ type: 'RegisterAccount', accountId: id, username: 'alice', passwordHash: '$argon2id$v=19$x', streamKey: key1 })
      .thenThrows('account_exists');
  });

  it('rotates the stream key, naming the previous one', () => {
    spec
      .given(registered)
      .when({ type: 'RotateStreamKey', streamKey: key2 })
      .then([{ type: 'StreamKeyRotated', data: { channelId: id, ...key2, previousKeyId: key1.keyId } }]);
  });

  it('refuses commands on an unregistered account', () => {
    spec.given([]).when({ type: 'RotateStreamKey', streamKey: key2 }).thenThrows('account_not_found');
    spec.given([]).when({ type: 'UpdateChannelInfo', title: 'x' }).thenThrows('account_not_found');
  });

  it('updates channel info, keeping fields that were not given', () => {
    const titled: AccountEvent[] = [
      ...registered,
      { type: 'ChannelInfoUpdated', data: { channelId: id, username: 'alice', title: 'Speedrun', category: 'Games' } },
    ];
    spec
      .given(titled)
      .when({ type: 'UpdateChannelInfo', category: 'Music' })
      .then([{ type: 'ChannelInfoUpdated', data: { channelId: id, username: 'alice', title: 'Speedrun', category: 'Music' } }]);
  });

  it('records nothing when channel info does not change', () => {
    spec.given(registered).when({ type: 'UpdateChannelInfo', title: '', category: '' }).then([]);
  });

  it('sets the latency mode, low by default, and records nothing when it does not change', () => {
    spec.given(registered).when({ type: 'SetLatencyMode', latencyMode: 'low' }).then([]);
    const smooth: AccountEvent = { type: 'ChannelLatencyModeChanged', data: { channelId: id, username: 'alice', latencyMode: 'smooth' } };
    spec.given(registered).when({ type: 'SetLatencyMode', latencyMode: 'smooth' }).then([smooth]);
    spec.given([...registered, smooth]).when({ type: 'SetLatencyMode', latencyMode: 'smooth' }).then([]);
    spec
      .given([...registered, smooth])
      .when({ type: 'SetLatencyMode', latencyMode: 'low' })
      .then([{ type: 'ChannelLatencyModeChanged', data: { channelId: id, username: 'alice', latencyMode: 'low' } }]);
  });

  it('refuses a latency mode on an unregistered account', () => {
    spec.given([]).when({ type: 'SetLatencyMode', latencyMode: 'smooth' }).thenThrows('account_not_found');
  });

  it('keeps recordings by default; SetRecording records a change only', () => {
    spec.given(registered).when({ type: 'SetRecording', enabled: true }).then([]);
    const off: AccountEvent = { type: 'ChannelRecordingChanged', data: { channelId: id, username: 'alice', enabled: false } };
    spec.given(registered).when({ type: 'SetRecording', enabled: false }).then([off]);
    spec.given([...registered, off]).when({ type: 'SetRecording', enabled: false }).then([]);
    spec
      .given([...registered, off])
      .when({ type: 'SetRecording', enabled: true })
      .then([{ type: 'ChannelRecordingChanged', data: { channelId: id, username: 'alice', enabled: true } }]);
    spec.given([]).when({ type: 'SetRecording', enabled: false }).thenThrows('account_not_found');
  });
});
