import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decryptSecret, encryptSecret, generateStreamKey, hashesEqual, hashStreamKey, parseStreamKey } from './stream-key.js';

const channelId = '6c1f0c6e-3b7a-4d8e-9a51-0b5a6f1d2c3e';
const secret = 'ab'.repeat(32);

describe('stream keys', () => {
  it('embed the channel id and 256 random bits', () => {
    const k = generateStreamKey(channelId);
    assert.match(k, /^ec_6c1f0c6e3b7a4d8e9a510b5a6f1d2c3e_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(parseStreamKey(k), { channelId });
    assert.notEqual(generateStreamKey(channelId), k);
  });

  it('reject malformed keys', () => {
    for (const bad of ['', 'live', 'ec_123_abc', `ec_${'g'.repeat(32)}_${'a'.repeat(43)}`, `${generateStreamKey(channelId)}x`]) {
      assert.equal(parseStreamKey(bad), null, bad);
    }
  });

  it('hash with SHA-256 and compare in constant time', () => {
    const k = generateStreamKey(channelId);
    assert.match(hashStreamKey(k), /^[0-9a-f]{64}$/);
    assert.ok(hashesEqual(hashStreamKey(k), hashStreamKey(k)));
    assert.ok(!hashesEqual(hashStreamKey(k), hashStreamKey(`${k}0`)));
    assert.ok(!hashesEqual('', ''));
  });

  it('encrypt for the owner and detect tampering', () => {
    const sealed = encryptSecret('hello', secret);
    assert.ok(!sealed.includes('hello'));
    assert.equal(decryptSecret(sealed, secret), 'hello');
    const [iv, tag, ct] = sealed.split('.');
    assert.throws(() => decryptSecret([iv, tag, `${ct}A`].join('.'), secret));
    assert.throws(() => decryptSecret(sealed, 'cd'.repeat(32)));
    assert.throws(() => encryptSecret('x', 'short'), /64 characters/);
  });
});
