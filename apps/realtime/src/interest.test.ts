/**
 * Edge interest (./interest.ts) against a private `nats-server`: an edge consumes a channel's events only while one
 * of its sockets watches the channel (one filtered ordered consumer per watched channel, deleted after the last viewer
 * leaves), a viewer of one channel gets nothing of another, and a channel watched again starts at the stream's end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_JETSTREAM, type WireEvent } from '@eventcast/events';
import { startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';
import { createLogger, loadConfig } from '@eventcast/platform';
import { startRealtime, type RealtimeServer } from './server.js';
import { channelInfoUpdated, openClient, poll, publishEvent, type Frame } from './test-support.js';

let nats: PrivateNatsServer;
let server: RealtimeServer;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

before(async () => {
  nats = await startPrivateNats();
  const logger = createLogger('realtime-test');
  logger.level = process.env['LOG_LEVEL'] ?? 'warn';
  server = await startRealtime({ config: { ...loadConfig(), NATS_URL: nats.url, REALTIME_PORT: 0, HOST: '127.0.0.1' }, logger, waitForRelay: true });
  nc = await connect({ servers: nats.url });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
});

after(async () => {
  await nc.close();
  await server.close();
  await nats.dispose();
});

/** Filter subjects of the stream's consumers now. */
async function filters(): Promise<string[]> {
  const out: string[] = [];
  for await (const ci of jsm.consumers.list(EVENTS_JETSTREAM)) out.push(ci.config.filter_subject ?? '');
  return out.sort();
}

const ids = (frames: Frame[], channel: string): string[] =>
  frames.filter((f) => f.type === 'event' && f['channel'] === channel).map((f) => (f['event'] as { id: string }).id);

void test('one filtered consumer per watched channel, made by the first viewer and deleted after the last', async () => {
  const alice = `alice_${randomBytes(3).toString('hex')}`;
  const bob = `bob_${randomBytes(3).toString('hex')}`;
  const directory = ['eventcast.events.account.*.ChannelInfoUpdated', 'eventcast.events.broadcast.*.*'];
  assert.deepEqual(await filters(), directory, 'before any viewer: the directory feed only, no consumer of every event');

  const a1 = await openClient(server.port);
  const a2 = await openClient(server.port);
  await a1.request({ type: 'subscribe', channel: alice }, (f) => f.type === 'subscribed');
  await a2.request({ type: 'subscribe', channel: alice }, (f) => f.type === 'subscribed');
  assert.deepEqual(await filters(), [...directory, `eventcast.events.*.${alice}.*`].sort(), 'two viewers of alice: one consumer');

  const events: WireEvent[] = [channelInfoUpdated(alice), channelInfoUpdated(bob), channelInfoUpdated(alice)];
  for (const ev of events) await publishEvent(js, ev, 'account');
  await a1.next((f) => ids([f], alice).includes(events[2]!.id));
  await a2.next((f) => ids([f], alice).includes(events[2]!.id));
  assert.deepEqual(ids(a1.frames, alice), [events[0]!.id, events[2]!.id]);
  assert.deepEqual(ids(a1.frames, bob), [], "nothing of bob's channel");

  await a1.close();
  assert.ok((await filters()).includes(`eventcast.events.*.${alice}.*`), 'one viewer left: the consumer stays');
  await a2.request({ type: 'unsubscribe', channel: alice }, (f) => f.type === 'unsubscribed');
  const gone = await poll(filters, (f) => !f.includes(`eventcast.events.*.${alice}.*`));
  assert.deepEqual(gone, directory, 'the last viewer left: the consumer is deleted');

  // Watched again: a new consumer from the stream's end (what was published meanwhile is history, not relayed).
  const missed = channelInfoUpdated(alice);
  await publishEvent(js, missed, 'account');
  const ack = await a2.request({ type: 'subscribe', channel: alice }, (f) => f.type === 'subscribed');
  assert.equal(ack['position'], missed.globalPosition, 'the position of the stream\'s last message: the history covers it');
  const next = channelInfoUpdated(alice);
  await publishEvent(js, next, 'account');
  await a2.next((f) => ids([f], alice).includes(next.id));
  assert.ok(!ids(a2.frames, alice).includes(missed.id));
  await a2.close();
});
