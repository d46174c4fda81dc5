/**
 * Fan-out coalescing (`REALTIME_FANOUT_BATCH_MS`, ./publish-batcher.ts): the batcher's order and timing, and on a real
 * uWS edge (private nats-server, real Redis) that frames relayed within one window reach a viewer in ONE TCP read,
 * while without a window they arrive as separate writes.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect as tcpConnect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createLogger, loadConfig } from '@eventcast/platform';
import { startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';
import { PublishBatcher } from './publish-batcher.js';
import { startRealtime, type RealtimeServer } from './server.js';
import { chatMessageSent, publishEvent, sleep } from './test-support.js';

void describe('PublishBatcher', () => {
  void test('window 0 publishes synchronously', () => {
    const out: string[] = [];
    const b = new PublishBatcher((t, f) => out.push(`${t}:${f}`), 0);
    b.publish('a', '1');
    assert.deepEqual(out, ['a:1']);
    assert.equal(b.pending, 0);
  });

  void test('a window holds frames, then publishes them together in arrival order across topics', async () => {
    const out: Array<[string, string, number]> = [];
    const b = new PublishBatcher((t, f) => out.push([t, f, performance.now()]), 40);
    const t0 = performance.now();
    b.publish('a', '1');
    await sleep(10);
    b.publish('dir', '2');
    b.publish('a', '3');
    assert.equal(out.length, 0);
    assert.equal(b.pending, 3);
    await sleep(80);
    assert.deepEqual(out.map(([t, f]) => `${t}:${f}`), ['a:1', 'dir:2', 'a:3']);
    const first = out[0]?.[2] ?? 0;
    assert.ok(first - t0 >= 35, `flushed after ${first - t0} ms, before the 40 ms window`);
    assert.ok(out.every(([, , at]) => at === first || Math.abs(at - first) < 2), 'one synchronous flush');
    b.publish('a', '4');
    b.flush();
    assert.equal(out.at(-1)?.[1], '4');
  });

  void test('small topics go out at once; while a window is open every frame queues, so none overtakes another', async () => {
    const out: string[] = [];
    const subscribers = new Map([['big', 1000], ['small', 3]]);
    const b = new PublishBatcher((t, f) => out.push(`${t}:${f}`), 30, (t) => subscribers.get(t) ?? 0, 500);
    b.publish('small', '1');
    assert.deepEqual(out, ['small:1']);
    b.publish('big', '2');
    b.publish('small', '3');
    assert.deepEqual(out, ['small:1']);
    await sleep(60);
    assert.deepEqual(out, ['small:1', 'big:2', 'small:3']);
    b.publish('small', '4');
    assert.equal(out.at(-1), 'small:4');
  });

  void test('a failing publish does not drop the rest of the batch; the error surfaces after', () => {
    const out: string[] = [];
    const b = new PublishBatcher((t, f) => {
      if (f === 'bad') throw new Error('boom');
      out.push(f);
    }, 1000);
    b.publish('a', '1');
    b.publish('a', 'bad');
    b.publish('a', '3');
    assert.throws(() => b.flush(), /boom/);
    assert.deepEqual(out, ['1', '3']);
  });

  void test('a failing publish in a timer-driven flush goes to onError instead of crashing the process', async () => {
    const errors: string[] = [];
    const out: string[] = [];
    const b = new PublishBatcher(
      (t, f) => {
        if (f === 'bad') throw new Error('boom');
        out.push(f);
      },
      10,
      () => 1,
      0,
      (e) => errors.push(e.message),
    );
    b.publish('a', 'bad');
    b.publish('a', '2');
    await sleep(40);
    assert.deepEqual(errors, ['boom']);
    assert.deepEqual(out, ['2']);
  });
});

/** A raw WebSocket client that records the TCP chunks (one per read) that carry `{"type":"event"` frames. */
async function rawViewer(port: number, channel: string): Promise<{ chunksWithEvents: () => string[]; close: () => void }> {
  const socket: Socket = tcpConnect({ host: '127.0.0.1', port, noDelay: true });
  const chunks: string[] = [];
  let upgraded = false;
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('connect', () =>
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    socket.on('data', (d: Buffer) => {
      const s = d.toString('latin1');
      if (!upgraded) {
        buffered += s;
        if (!buffered.includes('\r\n\r\n')) return;
        upgraded = true;
        const payload = Buffer.from(JSON.stringify({ type: 'subscribe', channel }));
        // masked client text frame with a zero key (RFC 6455 §5.3: any key is valid; zero leaves the payload as is)
        socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]));
      }
      if (s.includes('"type":"subscribed"')) resolve();
      if (s.includes('{"type":"event"')) chunks.push(s);
    });
  });
  return { chunksWithEvents: () => [...chunks], close: () => socket.destroy() };
}

const logger = createLogger('realtime-test');
logger.level = process.env['LOG_LEVEL'] ?? 'warn';
let natsServer: PrivateNatsServer;
let nc: NatsConnection;
let js: JetStreamClient;

before(async () => {
  natsServer = await startPrivateNats();
  nc = await connect({ servers: natsServer.url });
  js = jetstream(nc);
});

after(async () => {
  await nc.drain();
  await natsServer.dispose();
});

async function relayThreeSpacedMessages(windowMs: number, spacingMs: number, minViewers = 0): Promise<string[]> {
  const server: RealtimeServer = await startRealtime({
    config: { ...loadConfig(), REALTIME_PORT: 0, HOST: '127.0.0.1', NATS_URL: natsServer.url },
    logger,
    waitForRelay: true,
    edge: { REALTIME_CONNECTIONS_PER_IP_PER_10S: 0, REALTIME_FANOUT_BATCH_MS: windowMs, REALTIME_FANOUT_BATCH_MIN_VIEWERS: minViewers },
    presencePush: { intervalMs: 60_000, minPushIntervalMs: 60_000 },
  });
  const channel = `batch_${randomBytes(4).toString('hex')}`;
  const channelId = randomUUID();
  const viewer = await rawViewer(server.port, channel);
  try {
    for (const text of ['one', 'two', 'three']) {
      await publishEvent(js, chatMessageSent(channelId, channel, text), 'chat');
      await sleep(spacingMs);
    }
    const deadline = Date.now() + 5000;
    while (viewer.chunksWithEvents().join('').split('{"type":"event"').length - 1 < 3 && Date.now() < deadline) await sleep(20);
    return viewer.chunksWithEvents();
  } finally {
    viewer.close();
    await server.close();
  }
}

void describe('fan-out coalescing on the edge', () => {
  void test('with a 300 ms window, three messages relayed 15 ms apart reach the viewer in one TCP read', async () => {
    const chunks = await relayThreeSpacedMessages(300, 15);
    assert.equal(chunks.length, 1, `expected one read, got ${chunks.length}`);
    for (const text of ['one', 'two', 'three']) assert.ok(chunks[0]?.includes(`"text":"${text}"`), `missing ${text}`);
  });

  void test('without a window, messages 60 ms apart are written one by one', async () => {
    const chunks = await relayThreeSpacedMessages(0, 60);
    assert.equal(chunks.join('').split('{"type":"event"').length - 1, 3);
    assert.equal(chunks.length, 3, `expected three reads, got ${chunks.length}`);
  });

  void test('a channel below REALTIME_FANOUT_BATCH_MIN_VIEWERS is not batched even with a window', async () => {
    const chunks = await relayThreeSpacedMessages(300, 60, 2);
    assert.equal(chunks.join('').split('{"type":"event"').length - 1, 3);
    assert.equal(chunks.length, 3, `expected three reads, got ${chunks.length}`);
  });
});
