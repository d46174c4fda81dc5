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

  it('the ingest may request the restream patterns and the command side answer them; the edge may not', () => {
    for (const p of [CommandPatterns.RestreamTargets, CommandPatterns.RestreamState]) {
      assert.ok(natsPermissions('ingest').publish.allow.includes(p), p);
      assert.ok(natsPermissions('command-api').subscribe.allow.includes(p), p);
      assert.ok(!natsPermissions('realtime').publish.allow.includes(p), p);
    }
  });
});
