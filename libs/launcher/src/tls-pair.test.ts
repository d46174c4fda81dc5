/** The quick start's self-signed RTMPS pair (tls-pair.ts): made once, key private, usable by node:tls. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSecureContext } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { ensureSelfSignedTls } from './tls-pair.js';

void describe('ensureSelfSignedTls', () => {
  void it('generates a 0600 key and a certificate for localhost on first run and keeps them after', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-pair-'));
    try {
      const first = await ensureSelfSignedTls(dir, ['stream.example.test']);
      assert.equal(first.created, true);
      assert.equal(statSync(first.keyFile).mode & 0o777, 0o600);
      const cert = readFileSync(first.certFile);
      createSecureContext({ cert, key: readFileSync(first.keyFile) }); // throws when the pair does not match
      const x509 = new X509Certificate(cert);
      assert.ok(x509.checkHost('localhost'));
      assert.ok(x509.checkHost('stream.example.test'));
      assert.ok(x509.checkIP('127.0.0.1'));
      const second = await ensureSelfSignedTls(dir);
      assert.equal(second.created, false);
      assert.deepEqual(readFileSync(second.certFile), cert);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
