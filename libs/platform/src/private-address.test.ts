import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPrivateAddress, isPrivateHostLiteral } from './private-address.js';

describe('private addresses (webhook SSRF guard)', () => {
  it('flags loopback, RFC 1918, link-local, CGNAT, unique-local, multicast and mapped forms', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '[::1]']) {
      assert.equal(isPrivateAddress(a), true, a);
    }
  });

  it('passes public addresses', () => {
    for (const a of ['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) assert.equal(isPrivateAddress(a), false, a);
  });

  it('judges URL hostnames: localhost names and private literals; other names need resolving', () => {
    assert.equal(isPrivateHostLiteral('localhost'), true);
    assert.equal(isPrivateHostLiteral('api.localhost'), true);
    assert.equal(isPrivateHostLiteral('[::1]'), true);
    assert.equal(isPrivateHostLiteral('127.0.0.1'), true);
    assert.equal(isPrivateHostLiteral('example.org'), false);
    assert.equal(isPrivateHostLiteral('8.8.8.8'), false);
    assert.throws(() => isPrivateAddress('example.org'), /not an IP address/);
  });
});
