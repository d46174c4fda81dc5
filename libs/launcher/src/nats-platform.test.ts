/**
 * The quick start's own nats-server (`eventcast-platform up`): passwords generated into the secrets file once, a
 * config file under `.eventcast/nats/` readable only by its owner, authentication required, a second `up` reloads
 * instead of restarting, `down` stops it. Runs on a free port and a temporary state directory.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { freePort } from './free-port.js';
import { ensureNatsSecrets, findNatsServerBin, generateNatsPasswords, platformNatsEnv, spawnNatsServer, startPlatformNats, stopPlatformNats } from './index.js';

const stateDir = mkdtempSync(join(tmpdir(), 'eventcast-state-'));
after(async () => {
  await stopPlatformNats(stateDir);
  rmSync(stateDir, { recursive: true, force: true });
});

describe("the platform's own NATS", () => {
  it('adds passwords to an existing secrets file once, starts an authenticated server, reloads on a second up, stops on down', async () => {
    const secretsFile = join(stateDir, 'secrets.env');
    writeFileSync(secretsFile, 'JWT_SECRET=abc\nSTREAM_KEY_SECRET=def', { mode: 0o600 });
    const first = ensureNatsSecrets(secretsFile);
    const text = readFileSync(secretsFile, 'utf8');
    assert.match(text, /^JWT_SECRET=abc\nSTREAM_KEY_SECRET=def\n/);
    assert.match(text, new RegExp(`NATS_PASSWORD_REALTIME=${first.realtime}\n`));
    assert.deepEqual(ensureNatsSecrets(secretsFile), first, 'never changed once written');
    assert.equal(readFileSync(secretsFile, 'utf8'), text);

    const secrets = Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
    const port = await freePort();
    const env = await platformNatsEnv(stateDir, secrets, { EVENTCAST_NATS_PORT: String(port) });
    assert.deepEqual(env, { NATS_URL: `nats://127.0.0.1:${port}` });
    const conf = join(stateDir, 'nats', 'nats.conf');
    assert.equal(statSync(conf).mode & 0o777, 0o600);
    assert.match(readFileSync(conf, 'utf8'), new RegExp(`"store_dir": "${join(stateDir, 'nats', 'store')}"`));

    await assert.rejects(connect({ servers: env['NATS_URL'], reconnect: false }), /Authorization/);
    const nc = await connect({ servers: env['NATS_URL'], user: 'command-api', pass: first['command-api'], reconnect: false });
    assert.deepEqual(await platformNatsEnv(stateDir, secrets, { EVENTCAST_NATS_PORT: String(port) }), env, 'a second up reuses the running server');
    await nc.flush();
    assert.equal(nc.isClosed(), false, 'the reload keeps connections');
    await nc.close();
    assert.deepEqual(await platformNatsEnv(stateDir, secrets, { NATS_URL: 'nats://elsewhere:4222' }), { NATS_URL: 'nats://elsewhere:4222' });

    await stopPlatformNats(stateDir);
    await assert.rejects(connect({ servers: env['NATS_URL'], reconnect: false }));
  });

  it('a pid file naming some other process (pid reused after a reboot) is neither signalled nor trusted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'eventcast-state-'));
    // `sleep` dies on SIGHUP and SIGTERM: it survives only if it is never signalled.
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    await once(stranger, 'spawn');
    assert.ok(stranger.pid);
    try {
      mkdirSync(join(dir, 'run'), { recursive: true });
      writeFileSync(join(dir, 'run', 'nats.pid'), String(stranger.pid));
      const port = await freePort();
      const nats = await startPlatformNats({ stateDir: dir, passwords: generateNatsPasswords(), port });
      assert.equal(nats.started, true, 'a fresh server was started');
      assert.notEqual(nats.pid, stranger.pid);
      assert.equal(readFileSync(join(dir, 'run', 'nats.pid'), 'utf8'), String(nats.pid));
      await stopPlatformNats(dir);
      assert.equal(existsSync(join(dir, 'run', 'nats.pid')), false);
      writeFileSync(join(dir, 'run', 'nats.pid'), String(stranger.pid));
      await stopPlatformNats(dir);
      assert.equal(existsSync(join(dir, 'run', 'nats.pid')), false, 'the stale pid file is removed');
      assert.equal(stranger.exitCode, null);
      assert.equal(stranger.signalCode, null, 'the stranger was never signalled');
      assert.doesNotThrow(() => process.kill(stranger.pid ?? -1, 0));
    } finally {
      stranger.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds nats-server on PATH, and a missing binary rejects with a clear error', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'eventcast-bin-'));
    try {
      writeFileSync(join(bin, 'nats-server'), '#!/bin/sh\n');
      chmodSync(join(bin, 'nats-server'), 0o755);
      assert.equal(findNatsServerBin({ PATH: `/nonexistent:${bin}` }), join(bin, 'nats-server'));
      assert.equal(findNatsServerBin({ PATH: bin, NATS_SERVER_BIN: '/opt/nats' }), '/opt/nats');
      assert.equal(findNatsServerBin({ PATH: '/nonexistent' }), '/usr/sbin/nats-server');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
    await assert.rejects(spawnNatsServer(['-v'], { stdio: 'ignore' }, '/nonexistent/nats-server'), /could not start nats-server \(\/nonexistent\/nats-server\): ENOENT/);
  });
});
