/**
 * Resilience against NATS restarts, against a private `nats-server` (JetStream, temp store) so the shared server is
 * left alone. Skipped when the `nats-server` binary is not on PATH.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { EVENTS_JETSTREAM } from '@eventcast/events';
import { createLogger, loadConfig } from '@eventcast/platform';
import { startRealtime } from './server.js';
import { broadcastStarted, openClient, poll } from './test-support.js';

const hasNats = spawnSync('nats-server', ['--version']).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function startNats(port: number, dir: string): ChildProcess {
  return spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' });
}

function stopNats(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  });
}

void test('creates the stream on an empty server and keeps relaying across a NATS restart', { skip: !hasNats }, async () => {
  const natsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'realtime-nats-'));
  let nats = startNats(natsPort, dir);
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  const logger = createLogger('realtime-test');
  logger.level = process.env['LOG_LEVEL'] ?? 'warn';
  const config = { ...loadConfig(), NATS_URL: natsUrl, REALTIME_PORT: 0, HOST: '127.0.0.1' };
  const server = await startRealtime({ config, logger, waitForRelay: true });
  const ready = async (): Promise<number> => (await fetch(`http://127.0.0.1:${server.port}/ready`)).status;
  try {
    const admin = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(admin);
    const info = await jsm.streams.info(EVENTS_JETSTREAM);
    assert.deepEqual(info.config.subjects, ['eventcast.events.>']);
    assert.equal(info.config.duplicate_window, nanos(2 * 60 * 60 * 1000));
    await admin.close();

    const c = await openClient(server.port);
    await c.request({ type: 'subscribe', channel: 'restart_user' }, (f) => f.type === 'subscribed');
    const publish = async (): Promise<string> => {
      const nc = await connect({ servers: natsUrl });
      const ev = broadcastStarted('restart_user');
      await jetstream(nc).publish('eventcast.events.broadcast.BroadcastStarted', JSON.stringify(ev), { msgID: ev.id });
      await nc.close();
      return ev.id;
    };
    const first = await publish();
    await c.next((f) => f.type === 'event' && (f['event'] as { id: string }).id === first);

    await stopNats(nats);
    assert.equal(await poll(ready, (s) => s === 503), 503);
    nats = startNats(natsPort, dir);
    assert.equal(await poll(ready, (s) => s === 200, 15_000), 200);
    // The ordered consumer may take a heartbeat period to notice and re-create itself: keep publishing until one arrives.
    const deadline = Date.now() + 20_000;
    let received = false;
    while (!received && Date.now() < deadline) {
      const id = await publish();
      received = await c.next((f) => f.type === 'event' && (f['event'] as { id: string }).id === id, 2000).then(
        () => true,
        () => false,
      );
    }
    assert.ok(received, 'relay resumed after the NATS restart');
    await c.close();
  } finally {
    await server.close();
    await stopNats(nats);
    rmSync(dir, { recursive: true, force: true });
  }
});
