import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddressResolver, trustedProxiesFromEnv } from './client-address.js';

describe('client address behind trusted proxies', () => {
  it('reads TRUSTED_PROXIES as a list and refuses entries that are not addresses, ranges or presets', () => {
    assert.deepEqual(trustedProxiesFromEnv({}), []);
    assert.deepEqual(trustedProxiesFromEnv({ TRUSTED_PROXIES: ' 127.0.0.1, 10.0.0.0/8 ,,uniquelocal' }), ['127.0.0.1', '10.0.0.0/8', 'uniquelocal']);
    assert.throws(() => trustedProxiesFromEnv({ TRUSTED_PROXIES: '127.0.0.1,proxy.example.com' }), /TRUSTED_PROXIES/);
    assert.throws(() => trustedProxiesFromEnv({ TRUSTED_PROXIES: '10.0.0.0/99' }), /TRUSTED_PROXIES/);
  });

  it('trusts nobody by default: the header cannot choose the address', () => {
    const resolve = clientAddressResolver([]);
    assert.equal(resolve('203.0.113.9', '198.51.100.1'), '203.0.113.9');
  });

  it('takes the first untrusted hop from the right, so a spoofed left part is ignored', () => {
    const resolve = clientAddressResolver(['127.0.0.1', '10.0.0.0/8']);
    assert.equal(resolve('127.0.0.1', '198.51.100.7'), '198.51.100.7', 'one trusted proxy');
    assert.equal(resolve('127.0.0.1', '6.6.6.6, 198.51.100.7, 10.1.2.3'), '198.51.100.7', 'spoofed 6.6.6.6 before the real client');
    assert.equal(resolve('203.0.113.9', '198.51.100.7'), '203.0.113.9', 'an untrusted peer: its header is ignored');
    assert.equal(resolve('127.0.0.1', undefined), '127.0.0.1', 'no header: the proxy itself');
    assert.equal(resolve('::ffff:127.0.0.1', '198.51.100.7'), '198.51.100.7', 'IPv4-mapped peer');
    assert.equal(resolve('127.0.0.1', 'not-an-ip'), '127.0.0.1', 'garbage in the header stops at the proxy');
  });
});
