/**
 * Resilience against NATS restarts (issue 9 item 12), against a private `nats-server` (JetStream, temp store) so the
 * shared server is left alone: the relay is back within 2 s of NATS's return (it re-creates its consumer on the
 * connection's reconnect instead of waiting for missed heartbeats), events published while the edge was cut off are
 * relayed exactly once and in order (the consumer resumes from the relay's own stream cursor), and `/ready` says
 * `relay: false` while the edge is not relaying.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, nanos } from '@nats-io/transport-node';
import { EVENTS_JETSTREAM, type WireEvent } from '@eventcast/events';
import { startPrivateNats } from '@eventcast/launcher';
import { createLogger, loadConfig } from '@eventcast/platform';
import { startRealtime } from './server.js';
import { channelInfoUpdated, openClient, poll, publishEvent, type Frame } from './test-support.js';

interface Ready {
  status: number;
  relay: boolean;
}

void test('creates the stream on an empty server; after a NATS restart relays again within 2 s, each missed event once, in order', async () => {
  const nats = await startPrivateNats();
  const logger = createLogger('realtime-test');
  logger.level = process.env['LOG_LEVEL'] ?? 'warn';
  const config = { ...loadConfig(), NATS_URL: nats.url, REALTIME_PORT: 0, HOST: '127.0.0.1' };
  const server = await startRealtime({ config, logger, waitForRelay: true });
  const ready = async (): Promise<Ready> => {
    const res = await fetch(`http://127.0.0.1:${server.port}/ready`);
    const body = (await res.json()) as { checks: { relay: boolean } };
    return { status: res.status, relay: body.checks.relay };
  };
  const channel = 'restart_user';
  const publish = async (events: WireEvent[]): Promise<void> => {
    const nc = await connect({ servers: nats.url });
    const js = jetstream(nc);
    for (const ev of events) await publishEvent(js, ev, 'account');
    await nc.close();
  };
  const received = (frames: Frame[]): string[] =>
    frames.filter((f) => f.type === 'event' && f['channel'] === channel).map((f) => (f['event'] as { id: string }).id);
  try {
    const admin = await connect({ servers: nats.url });
    const info = await (await jetstreamManager(admin)).streams.info(EVENTS_JETSTREAM);
    assert.deepEqual(info.config.subjects, ['eventcast.events.>']);
    assert.equal(info.config.duplicate_window, nanos(2 * 60 * 60 * 1000));
    await admin.close();

    const c = await openClient(server.port);
    await c.request({ type: 'subscribe', channel }, (f) => f.type === 'subscribed');
    const before = [channelInfoUpdated(channel), channelInfoUpdated(channel)];
    await publish(before);
    await c.next((f) => received([f]).includes(before[1]!.id));

    await nats.stop();
    const down = await poll(ready, (r) => r.status === 503);
    assert.deepEqual(down, { status: 503, relay: false }, 'not ready and not relaying while NATS is down');

    await nats.start();
    const back = Date.now();
    // Published at once, before the edge has reconnected (its reconnect wait is 1 s): the relay must pick these up
    // from its cursor, not start at "new" messages.
    const gap = Array.from({ length: 5 }, () => channelInfoUpdated(channel));
    await publish(gap);
    await c.next((f) => received([f]).includes(gap.at(-1)!.id), 2000 - (Date.now() - back));
    const resumedMs = Date.now() - back;
    assert.ok(resumedMs <= 2000, `relay resumed ${resumedMs} ms after NATS came back`);
    assert.deepEqual(await poll(ready, (r) => r.status === 200), { status: 200, relay: true });

    const live = Array.from({ length: 3 }, () => channelInfoUpdated(channel));
    await publish(live);
    await c.next((f) => received([f]).includes(live.at(-1)!.id));
    // Exactly once, in publication order: nothing lost, nothing repeated across the consumer re-creation.
    assert.deepEqual(received(c.frames), [...before, ...gap, ...live].map((e) => e.id));
    await c.close();
  } finally {
    await server.close();
    await nats.dispose();
  }
});
