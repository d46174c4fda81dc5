/**
 * Integration tests: the real uWS server, a private nats-server with JetStream (so test events never reach the shared
 * server's stream) and the real Redis (REDIS_URL). Usernames are unique per run.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import { EVENTS_SUBJECT_PREFIX, channelTokenOf, type WireEvent } from '@eventcast/events';
import { createLogger, loadConfig } from '@eventcast/platform';
import { startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';
import { presenceCountKey, presenceEdgesKey } from './presence.js';
import { startRealtime, type RealtimeServer } from './server.js';
import { broadcastEnded, broadcastStarted, channelInfoUpdated, openClient, poll, sleep, wireEvent, type Frame } from './test-support.js';

let config = { ...loadConfig(), REALTIME_PORT: 0, HOST: '127.0.0.1' };
let natsServer: PrivateNatsServer;
const logger = createLogger('realtime-test');
logger.level = process.env['LOG_LEVEL'] ?? 'warn';
const run = randomBytes(4).toString('hex');
const user = (name: string): string => `${name}_${run}`;

let server: RealtimeServer;
let nc: NatsConnection;
let js: JetStreamClient;
let redis: Redis;

async function publish(ev: WireEvent, category = 'broadcast'): Promise<void> {
  const h = headers();
  h.set('Eventcast-Global-Position', ev.globalPosition);
  h.set('Eventcast-Stream', ev.streamName);
  h.set('Eventcast-Revision', ev.revision);
  h.set('Eventcast-Event-Type', ev.type);
  h.set('Eventcast-Event-Version', String(ev.version));
  await js.publish(`${EVENTS_SUBJECT_PREFIX}.${category}.${channelTokenOf(ev.data)}.${ev.type}`, JSON.stringify(ev), { msgID: ev.id, headers: h });
}

async function viewers(port: number, channel: string): Promise<{ status: number; body: { viewers?: number } }> {
  const res = await fetch(`http://127.0.0.1:${port}/channels/${channel}/viewers`);
  return { status: res.status, body: (await res.json()) as { viewers?: number } };
}

const isEvent = (type: string, channel: string) => (f: Frame) =>
  f.type === 'event' && f.channel === channel && (f['event'] as { type: string }).type === type;

before(async () => {
  natsServer = await startPrivateNats();
  config = { ...config, NATS_URL: natsServer.url };
  server = await startRealtime({
    config,
    logger,
    waitForRelay: true,
    edge: { REALTIME_CONNECTIONS_PER_IP_PER_10S: 0 },
    presence: { ttlSeconds: 2, refreshMs: 500 },
  });
  nc = await connect({ servers: config.NATS_URL });
  js = jetstream(nc);
  redis = new Redis(config.REDIS_URL);
});

after(async () => {
  await server.close();
  await nc.drain();
  await redis.quit();
  await natsServer.dispose();
});

void describe('relay from JetStream', () => {
  void test('a viewer of alice receives her BroadcastStarted/BroadcastEnded and nothing for bob', async () => {
    const alice = user('alice');
    const bob = user('bob');
    const c = await openClient(server.port);
    const bobViewer = await openClient(server.port);
    await c.request({ type: 'subscribe', channel: alice }, (f) => f.type === 'subscribed');
    await bobViewer.request({ type: 'subscribe', channel: bob }, (f) => f.type === 'subscribed');
    const bobEvent = broadcastStarted(bob);
    const aliceEvent = broadcastStarted(alice);
    await publish(bobEvent);
    await publish(aliceEvent);
    const got = await c.next(isEvent('BroadcastStarted', alice));
    assert.deepEqual(got, {
      type: 'event',
      channel: alice,
      event: {
        id: aliceEvent.id,
        type: 'BroadcastStarted',
        data: aliceEvent.data,
        globalPosition: aliceEvent.globalPosition,
        occurredAt: aliceEvent.occurredAt,
      },
    });
    await publish(broadcastEnded(aliceEvent));
    await c.next(isEvent('BroadcastEnded', alice));
    // bob's was published first; the stream is ordered, so it would have arrived by now.
    await sleep(100);
    assert.equal(c.frames.filter((f) => f.type === 'event' && f.channel === bob).length, 0);
    assert.equal(c.frames.filter((f) => f.type === 'event').length, 2);
    // bob's viewer got bob's event, and only bob's.
    await bobViewer.next(isEvent('BroadcastStarted', bob));
    assert.ok(bobViewer.frames.every((f) => f.type !== 'event' || f.channel === bob));
    await publish(broadcastEnded(bobEvent)); // leave no fake live broadcast behind for the projectors
    await bobViewer.next(isEvent('BroadcastEnded', bob));
    await c.close();
    await bobViewer.close();
  });

  void test('subscribed says the position of the last relayed event (history covers up to it, the relay after it)', async () => {
    const dave = user('dave');
    const early = await openClient(server.port);
    await early.request({ type: 'subscribe', channel: dave }, (f) => f.type === 'subscribed');
    const started = broadcastStarted(dave);
    await publish(started);
    await early.next(isEvent('BroadcastStarted', dave));
    // A viewer subscribing now did not get that event: the frame tells it the history must cover its position.
    const late = await openClient(server.port);
    const ack = await late.request({ type: 'subscribe', channel: dave }, (f) => f.type === 'subscribed');
    assert.equal(ack['position'], started.globalPosition);
    const ended = broadcastEnded(started);
    await publish(ended);
    const got = await late.next(isEvent('BroadcastEnded', dave));
    assert.ok(BigInt((got['event'] as { globalPosition: string }).globalPosition) > BigInt(ack['position']));
    await early.close();
    await late.close();
  });

  void test('the directory feed gets go-live/offline of every channel without counting as a viewer', async () => {
    const carol = user('carol');
    const dir = await openClient(server.port);
    await dir.request({ type: 'subscribe_directory' }, (f) => f.type === 'directory_subscribed');
    const started = broadcastStarted(carol);
    await publish(started);
    await dir.next(isEvent('BroadcastStarted', carol));
    assert.deepEqual((await viewers(server.port, carol)).body, { channel: carol, viewers: 0 });
    await publish(broadcastEnded(started));
    await dir.next(isEvent('BroadcastEnded', carol));
    await dir.request({ type: 'unsubscribe_directory' }, (f) => f.type === 'directory_unsubscribed');
    await dir.close();
  });

  void test('ChannelInfoUpdated is relayed; events with secrets and invalid events are ignored without crashing', async () => {
    const alice = user('carol');
    const c = await openClient(server.port);
    await c.request({ type: 'subscribe', channel: alice }, (f) => f.type === 'subscribed');
    const accountId = randomUUID();
    // Not on the allowlist (carries a password hash) although it names the channel.
    await publish(
      wireEvent('AccountRegistered', { accountId, username: alice, passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA' }, `account-${accountId}`),
      'account',
    );
    // Invalid (on the channel's subjects, so its consumer takes them): not JSON, unknown type, bad payload, bad envelope.
    await js.publish(`${EVENTS_SUBJECT_PREFIX}.broadcast.${alice}.BroadcastStarted`, 'not json {', { msgID: randomUUID() });
    await publish(wireEvent('NoSuchEvent', { username: alice }, 'broadcast-x'));
    await publish({ ...broadcastStarted(alice), data: { username: alice } });
    await js.publish(`${EVENTS_SUBJECT_PREFIX}.broadcast.${alice}.BroadcastStarted`, JSON.stringify({ type: 'BroadcastStarted' }), {
      msgID: randomUUID(),
    });
    const info = channelInfoUpdated(alice, accountId);
    await publish(info, 'account');
    const got = await c.next(isEvent('ChannelInfoUpdated', alice));
    assert.equal((got['event'] as { id: string }).id, info.id);
    assert.equal(c.frames.filter((f) => f.type === 'event').length, 1);
    assert.ok(!JSON.stringify(c.frames).includes('argon2'));
    assert.ok(server.isReady());
    await c.close();
  });
});

void describe('protocol errors', () => {
  void test('malformed JSON, unknown type and bad channels get error frames and the connection stays open', async () => {
    const c = await openClient(server.port);
    const err = (f: Frame) => f.type === 'error';
    assert.equal((await c.request('{not json', err))['code'], 'malformed_json');
    assert.equal((await c.request({ type: 'ping' }, (f) => f.type === 'pong')).type, 'pong');
    assert.equal((await c.request({ type: 'dance' }, err))['code'], 'unknown_type');
    assert.equal((await c.request({ type: 'subscribe', channel: 'No Way!' }, err))['code'], 'invalid_channel');
    assert.equal((await c.request({ type: 'subscribe' }, err))['code'], 'invalid_channel');
    const bin = c.frames.length;
    c.sendRaw(new Uint8Array([1, 2, 3]));
    assert.equal((await c.next(err, 5000, bin))['code'], 'malformed_json');
    assert.equal((await c.request({ type: 'ping' }, (f) => f.type === 'pong')).type, 'pong');
    for (const f of c.frames.filter(err)) assert.equal(typeof f['message'], 'string');
    assert.equal(await c.close(), 1000);
  });

  void test('subscribe/unsubscribe are idempotent and limited to 10 channels per connection', async () => {
    const c = await openClient(server.port);
    for (let i = 0; i < 10; i++) {
      await c.request({ type: 'subscribe', channel: user(`lim${i}`) }, (f) => f.type === 'subscribed');
    }
    await c.request({ type: 'subscribe', channel: user('lim0') }, (f) => f.type === 'subscribed');
    const e = await c.request({ type: 'subscribe', channel: user('lim10') }, (f) => f.type === 'error');
    assert.equal(e['code'], 'too_many_subscriptions');
    await c.request({ type: 'unsubscribe', channel: user('lim0') }, (f) => f.type === 'unsubscribed');
    await c.request({ type: 'unsubscribe', channel: user('lim0') }, (f) => f.type === 'unsubscribed');
    await c.request({ type: 'subscribe', channel: user('lim10') }, (f) => f.type === 'subscribed');
    await c.close();
  });

  void test('oversized frames: message_too_large under the app limit, socket closed with 1009 above it', async () => {
    const c = await openClient(server.port);
    const big = JSON.stringify({ type: 'ping', pad: 'x'.repeat(8 * 1024) });
    assert.equal((await c.request(big, (f) => f.type === 'error'))['code'], 'message_too_large');
    await c.request({ type: 'ping' }, (f) => f.type === 'pong');
    c.sendRaw(JSON.stringify({ type: 'ping', pad: 'x'.repeat(20 * 1024) }));
    // The edge closes with 1009 "message too big" (RFC 6455 §7.4.1); see close-codes.test.ts for the reason text.
    assert.equal(await c.closed, 1009);
  });
});

void describe('presence', () => {
  void test('viewer count goes 0 → 2 → 1 as clients subscribe and leave', async () => {
    const ch = user('dave');
    assert.deepEqual((await viewers(server.port, ch)).body, { channel: ch, viewers: 0 });
    const a = await openClient(server.port);
    const b = await openClient(server.port);
    await a.request({ type: 'subscribe', channel: ch }, (f) => f.type === 'subscribed');
    await b.request({ type: 'subscribe', channel: ch }, (f) => f.type === 'subscribed');
    assert.equal((await poll(() => viewers(server.port, ch), (v) => v.body.viewers === 2)).body.viewers, 2);
    await a.close();
    assert.equal((await poll(() => viewers(server.port, ch), (v) => v.body.viewers === 1)).body.viewers, 1);
    await b.request({ type: 'unsubscribe', channel: ch }, (f) => f.type === 'unsubscribed');
    assert.equal((await poll(() => viewers(server.port, ch), (v) => v.body.viewers === 0)).body.viewers, 0);
    await b.close();
  });

  void test('counts sum across edges and a dead edge drops out after its TTL', async () => {
    const ch = user('erin');
    const other = await startRealtime({ config, logger, edge: { REALTIME_CONNECTIONS_PER_IP_PER_10S: 0 }, presence: { ttlSeconds: 2, refreshMs: 500 } });
    try {
      const a = await openClient(server.port);
      const b = await openClient(other.port);
      await a.request({ type: 'subscribe', channel: ch }, (f) => f.type === 'subscribed');
      await b.request({ type: 'subscribe', channel: ch }, (f) => f.type === 'subscribed');
      assert.equal((await poll(() => viewers(other.port, ch), (v) => v.body.viewers === 2)).body.viewers, 2);
      // An edge that died without cleaning up: its key expires and the read drops it from the set.
      await redis.set(presenceCountKey(ch, 'dead-edge'), '5', 'PX', 700);
      await redis.sadd(presenceEdgesKey(ch), 'dead-edge');
      assert.equal((await viewers(server.port, ch)).body.viewers, 7);
      assert.equal((await poll(() => viewers(server.port, ch), (v) => v.body.viewers === 2, 3000)).body.viewers, 2);
      assert.equal(await redis.sismember(presenceEdgesKey(ch), 'dead-edge'), 0);
      // Counts survive longer than the TTL thanks to the refresh.
      await sleep(2500);
      assert.equal((await viewers(server.port, ch)).body.viewers, 2);
      // Graceful shutdown of an edge removes its viewers at once and closes its sockets with 1001.
      await other.close();
      assert.equal(await b.closed, 1001);
      assert.equal((await viewers(server.port, ch)).body.viewers, 1);
      await a.close();
    } finally {
      await other.close();
    }
  });
});

void describe('http', () => {
  void test('health, ready, CORS, 400 and 404', async () => {
    const h = await fetch(`http://127.0.0.1:${server.port}/health`);
    assert.equal(h.status, 200);
    assert.equal(h.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await h.json(), { status: 'ok' });
    const r = await fetch(`http://127.0.0.1:${server.port}/ready`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.deepEqual(await r.json(), { status: 'ready', checks: { nats: true, relay: true, redis: true } });
    const bad = await viewers(server.port, 'NO');
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { statusCode?: number }).statusCode, 400);
    const nf = await fetch(`http://127.0.0.1:${server.port}/nope`);
    assert.equal(nf.status, 404);
    await nf.body?.cancel();
    const pre = await fetch(`http://127.0.0.1:${server.port}/health`, { method: 'OPTIONS' });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-methods'), 'GET, OPTIONS');
  });
});
