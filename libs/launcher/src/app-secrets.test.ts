/** Which app gets which secret (processes.ts): RESTREAM_KEY_SECRET only reaches command-api and the ingest. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandPatterns } from '@eventcast/events';
import { natsPermissions } from './nats-config.js';
import { DEFAULT_PORTS, platformProcesses } from './processes.js';

describe('app-only secrets', () => {
  it('RESTREAM_KEY_SECRET goes to command-api and ingest only; STREAM_KEY_SECRET as before', () => {
    const specs = platformProcesses({ rootDir: '/repo', env: { RESTREAM_KEY_SECRET: 'r'.repeat(64), STREAM_KEY_SECRET: 's'.repeat(64) }, logDir: '/tmp' }, DEFAULT_PORTS);
    const holders = specs.filter((s) => s.env['RESTREAM_KEY_SECRET'] !== undefined).map((s) => s.name).sort();
    assert.deepEqual(holders, ['command-api', 'ingest']);
    assert.equal(specs.filter((s) => s.env['STREAM_KEY_SECRET'] !== undefined).length, specs.length);
    assert.equal(specs.find((s) => s.name === 'ingest')?.env['INGEST_RTMPS_PORT'], '1936');
  });

  it('with a public host, RTMPS_PUBLIC_URL is set only when the ingest has a certificate (else command-api shows no RTMPS)', () => {
    const rtmpsOf = (env: Record<string, string>) =>
      platformProcesses({ rootDir: '/repo', env, logDir: '/tmp', publicHost: 'live.example.org' }, DEFAULT_PORTS).find((s) => s.name === 'command-api')?.env['RTMPS_PUBLIC_URL'];
    const saved = process.env['INGEST_TLS_CERT_FILE'];
    delete process.env['INGEST_TLS_CERT_FILE'];
    try {
      assert.equal(rtmpsOf({}), undefined);
      assert.equal(rtmpsOf({ INGEST_TLS_CERT_FILE: '/tls/cert.pem', INGEST_TLS_KEY_FILE: '/tls/key.pem' }), 'rtmps://live.example.org:1936/live');
    } finally {
      if (saved !== undefined) process.env['INGEST_TLS_CERT_FILE'] = saved;
    }
  });

  it('the ingest may request the restream patterns and the command side answer them; the edge may not', () => {
    for (const p of [CommandPatterns.RestreamTargets, CommandPatterns.RestreamState]) {
      assert.ok(natsPermissions('ingest').publish.allow.includes(p), p);
      assert.ok(natsPermissions('command-api').subscribe.allow.includes(p), p);
      assert.ok(!natsPermissions('realtime').publish.allow.includes(p), p);
    }
  });
});
