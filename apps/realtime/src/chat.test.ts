/**
 * Chat sending through the edge (docs/chat.md "realtime WebSocket additions"): auth, `chat.send` as a NATS request
 * answered by a real NestJS microservice, error mapping, the edge rate limit and the per-IP upgrade limit.
 * Private nats-server, real Redis, real uWS server; channel ids come from the responder's `channels.resolve` (no
 * query-api: the chat write path does not depend on it).
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { RpcException } from '@nestjs/microservices';
import { createLogger, loadConfig } from '@eventcast/platform';
import { startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';
import { startChatResponder, type ChatResponder } from './chat-fixtures.js';
import { startRealtime, type RealtimeServer } from './server.js';
import { openClient, signToken, sleep, type Frame, type TestClient } from './test-support.js';

const logger = createLogger('realtime-test');
logger.level = process.env['LOG_LEVEL'] ?? 'warn';
const run = randomBytes(4).toString('hex');
const user = (name: string): string => `${name}_${run}`;
let config = { ...loadConfig(), REALTIME_PORT: 0, HOST: '127.0.0.1' };
let natsServer: PrivateNatsServer;
let responder: ChatResponder;
let server: RealtimeServer;

const alice = user('alice');
const aliceChannelId = randomUUID();
const viewerId = randomUUID();
const viewerName = user('vic');
const isError = (f: Frame): boolean => f.type === 'error';

async function signedIn(): Promise<TestClient> {
  const c = await openClient(server.port, await signToken(config.JWT_SECRET, viewerId, viewerName));
  await c.next((f) => f.type === 'authenticated');
  return c;
}

before(async () => {
  natsServer = await startPrivateNats();
  config = { ...config, NATS_URL: natsServer.url };
  responder = await startChatResponder(natsServer.url);
  responder.channels.set(alice, aliceChannelId);
  server = await startRealtime({
    config,
    logger,
    waitForRelay: true,
    edge: { REALTIME_CONNECTIONS_PER_IP_PER_10S: 0, REALTIME_CHAT_SEND_TIMEOUT_MS: 500 },
  });
});

after(async () => {
  await server.close();
  await responder.close();
  await natsServer.dispose();
});

void describe('auth', () => {
  void test('?token= signs in: welcome then authenticated {id, username}', async () => {
    const c = await openClient(server.port, await signToken(config.JWT_SECRET, viewerId, viewerName));
    const f = await c.next((x) => x.type === 'authenticated');
    assert.deepEqual(f, { type: 'authenticated', user: { id: viewerId, username: viewerName } });
    assert.equal(c.frames[0]?.type, 'welcome');
    await c.close();
  });

  void test('signed-in sockets stay open after the welcome and authenticated frames (asynchronous upgrade)', async () => {
    // Regression: sending both frames inside the cork of the asynchronous upgrade made uWS drop nearly every
    // signed-in socket with 1006 a few ms after open. Guests and signed-in users connect at once, as on a busy page.
    const token = await signToken(config.JWT_SECRET, 'u1', 'carol');
    for (let round = 0; round < 10; round++) {
      const clients = await Promise.all(['g', 't', 't', 'g', 't'].map((k) => openClient(server.port, k === 't' ? token : undefined)));
      const early = await Promise.race([Promise.any(clients.map((c) => c.closed)), sleep(150).then(() => null)]);
      assert.equal(early, null, `round ${round}: a socket closed early with ${String(early)}`);
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  void test('a bad ?token= leaves a guest connection with invalid_token', async () => {
    const c = await openClient(server.port, 'not.a.jwt');
    assert.equal((await c.next(isError))['code'], 'invalid_token');
    await c.request({ type: 'subscribe', channel: alice }, (f) => f.type === 'subscribed');
    const e = await c.request({ type: 'chat.send', channel: alice, text: 'hi', nonce: 'n1' }, isError);
    assert.equal(e['code'], 'unauthenticated');
    await c.close();
  });

  void test('auth frame: ok, wrong secret, expired, missing token', async () => {
    const c = await openClient(server.port);
    const bad = async (token: unknown): Promise<unknown> => (await c.request({ type: 'auth', token }, isError))['code'];
    assert.equal(await bad(await signToken('another-secret-of-enough-length', viewerId, viewerName)), 'invalid_token');
    assert.equal(await bad(await signToken(config.JWT_SECRET, viewerId, viewerName, Math.floor(Date.now() / 1000) - 10)), 'invalid_token');
    assert.equal(await bad(undefined), 'invalid_token');
    const ok = await c.request({ type: 'auth', token: await signToken(config.JWT_SECRET, viewerId, viewerName) }, (f) => f.type === 'authenticated');
    assert.deepEqual(ok['user'], { id: viewerId, username: viewerName });
    await c.close();
  });
});

void describe('chat.send', () => {
  void test('guest → unauthenticated; not subscribed → not_subscribed; bad nonce → invalid_request; no request made', async () => {
    const before = responder.received.length;
    const guest = await openClient(server.port);
    await guest.request({ type: 'subscribe', channel: alice }, (f) => f.type === 'subscribed');
    assert.deepEqual(
      { ...(await guest.request({ type: 'chat.send', channel: alice, text: 'hi', nonce: 'g1' }, isError)), message: '' },
      { type: 'error', code: 'unauthenticated', message: '', nonce: 'g1' },
    );
    const c = await signedIn();
    const e = await c.request({ type: 'chat.send', channel: alice, text: 'hi', nonce: 'x1' }, isError);
    assert.deepEqual([e['code'], e['nonce']], ['not_subscribed', 'x1']);
    assert.equal((await c.request({ type: 'chat.send', channel: alice, text: 'hi' }, isError))['code'], 'invalid_request');
    assert.equal((await c.request({ type: 'chat.send', channel: alice, text: 42, nonce: 'x2' }, isError))['code'], 'invalid_request');
    assert.equal(responder.received.length, before);
    await guest.close();
    await c.close();
  });

  void test('a send is a chat.send request (nonce forwarded) to the Nest responder and the ack comes back with the nonce', async () => {
    const visibleAt = new Date().toISOString();
    const messageId = randomUUID();
    responder.behaviour = () => ({ ok: true, messageId, visibleAt });
    const c = await signedIn();
    await c.request({ type: 'subscribe', channel: alice }, (f) => f.type === 'subscribed');
    const ack = await c.request({ type: 'chat.send', channel: alice, text: '  hello <b>chat</b> ', nonce: 'n-1' }, (f) => f.type === 'chat.ack' || isError(f));
    assert.deepEqual(ack, { type: 'chat.ack', nonce: 'n-1', messageId, visibleAt });
    const req = responder.received.at(-1) as Record<string, unknown>;
    assert.deepEqual(
      { ...req, correlationId: typeof req['correlationId'] },
      { channelId: aliceChannelId, senderId: viewerId, senderName: viewerName, text: '  hello <b>chat</b> ', nonce: 'n-1', correlationId: 'string' },
    );
    // The channel id is cached: a second send asks the command side's channels.resolve nothing.
    const hits = responder.resolves;
    assert.ok(hits >= 1);
    await c.request({ type: 'chat.send', channel: alice, text: 'again', nonce: 'n-2' }, (f) => f.type === 'chat.ack');
    assert.equal(responder.resolves, hits);
    await c.close();
  });

  void test('refusals, responder errors, unknown channels and timeouts become error frames with the nonce', async () => {
    const c = await signedIn();
    await c.request({ type: 'subscribe', channel: alice }, (f) => f.type === 'subscribed');
    const send = (nonce: string, channel = alice): Promise<Frame> => c.request({ type: 'chat.send', channel, text: 'x', nonce }, (f) => f['nonce'] === nonce);

    responder.behaviour = () => ({ ok: false, code: 'slow_mode', message: 'slow mode is on', retryAfterMs: 1500 });
    assert.deepEqual(await send('a'), { type: 'error', code: 'slow_mode', message: 'slow mode is on', nonce: 'a', retryAfterMs: 1500 });
    responder.behaviour = () => ({ ok: false, code: 'banned', message: 'you are banned' });
    assert.deepEqual(await send('b'), { type: 'error', code: 'banned', message: 'you are banned', nonce: 'b' });
    responder.behaviour = () => {
      throw new RpcException('boom');
    };
    assert.equal((await send('c'))['code'], 'internal_error');
    responder.behaviour = async () => {
      await sleep(1000);
      return { ok: true, messageId: randomUUID(), visibleAt: new Date().toISOString() };
    };
    const late = await send('d');
    assert.deepEqual([late['code'], typeof late['retryAfterMs']], ['unavailable', 'number']);

    const ghost = user('ghost');
    await c.request({ type: 'subscribe', channel: ghost }, (f) => f.type === 'subscribed');
    assert.equal((await send('e', ghost))['code'], 'channel_not_found');

    // The command side cannot read its store: channels.resolve says unavailable, and so does the edge (not "not found").
    const later = user('later');
    responder.resolveUnavailable = true;
    await c.request({ type: 'subscribe', channel: later }, (f) => f.type === 'subscribed');
    const down = await send('f', later);
    assert.deepEqual([down['code'], typeof down['retryAfterMs']], ['unavailable', 'number']);
    responder.resolveUnavailable = false;
    responder.channels.set(later, randomUUID());
    responder.behaviour = () => ({ ok: false, code: 'unavailable', message: 'store down', retryAfterMs: 1000 });
    assert.deepEqual(await send('g', later), { type: 'error', code: 'unavailable', message: 'store down', nonce: 'g', retryAfterMs: 1000 });
    await c.close();
  });

  void test('the edge rate-limits sends per connection (10/s, burst 10) before any request', async () => {
    responder.behaviour = () => ({ ok: true, messageId: randomUUID(), visibleAt: new Date().toISOString() });
    const c = await signedIn();
    await c.request({ type: 'subscribe', channel: alice }, (f) => f.type === 'subscribed');
    const before = responder.received.length;
    for (let i = 0; i < 13; i++) c.send({ type: 'chat.send', channel: alice, text: `m${i}`, nonce: `r${i}` });
    for (let i = 0; i < 13; i++) await c.next((f) => f['nonce'] === `r${i}`);
    const answers = c.frames.filter((f) => typeof f['nonce'] === 'string' && String(f['nonce']).startsWith('r'));
    const limited = answers.filter((f) => f['code'] === 'rate_limited');
    assert.equal(answers.filter((f) => f.type === 'chat.ack').length, 10);
    assert.equal(limited.length, 3);
    for (const f of limited) assert.ok(typeof f['retryAfterMs'] === 'number' && f['retryAfterMs'] > 0 && f['retryAfterMs'] <= 1000);
    assert.equal(responder.received.length - before, 10);
    await sleep(150); // one token back
    await c.request({ type: 'chat.send', channel: alice, text: 'later', nonce: 'late' }, (f) => f.type === 'chat.ack');
    await c.close();
  });

  void test('invalid text counts toward the edge rate limit: a flood of 30 ends in rate_limited, a valid send later is accepted', async () => {
    responder.behaviour = () => ({ ok: true, messageId: randomUUID(), visibleAt: new Date().toISOString() });
    const c = await signedIn();
    await c.request({ type: 'subscribe', channel: alice }, (f) => f.type === 'subscribed');
    const before = responder.received.length;
    // A NUL breaks the text rule (refused at parsing, before the edge's send limiter until this fix).
    for (let i = 0; i < 30; i++) c.send({ type: 'chat.send', channel: alice, text: `bad\u0000${i}`, nonce: `v${i}` });
    // Invalid and valid text share the bucket: a valid send right behind the flood is limited too, and asks nothing.
    c.send({ type: 'chat.send', channel: alice, text: 'ok', nonce: 'w0' });
    for (let i = 0; i < 30; i++) await c.next((f) => f['nonce'] === `v${i}`);
    const answers = c.frames.filter((f) => typeof f['nonce'] === 'string' && String(f['nonce']).startsWith('v'));
    const codes = answers.map((f) => f['code']);
    assert.ok(codes.every((code) => code === 'invalid_request' || code === 'rate_limited'), JSON.stringify(codes));
    // Burst 10 at 10/s: the first 10 use the burst, at most a token or two comes back while the burst is answered.
    const invalid = codes.filter((code) => code === 'invalid_request').length;
    assert.ok(invalid >= 10 && invalid <= 13, `invalid_request ${invalid} times`);
    assert.deepEqual(codes.slice(0, 10), Array(10).fill('invalid_request'));
    assert.equal(codes.at(-1), 'rate_limited');
    for (const f of answers.filter((x) => x['code'] === 'rate_limited')) {
      assert.ok(typeof f['retryAfterMs'] === 'number' && f['retryAfterMs'] > 0 && f['retryAfterMs'] <= 1000, JSON.stringify(f));
    }
    assert.equal((await c.next((f) => f['nonce'] === 'w0'))['code'], 'rate_limited');
    assert.equal(responder.received.length, before);
    await sleep(150); // one token back
    await c.request({ type: 'chat.send', channel: alice, text: 'later', nonce: 'w1' }, (f) => f.type === 'chat.ack');
    assert.equal(responder.received.length - before, 1);
    await c.close();
  });
});

/** Sends a raw WebSocket upgrade request and resolves with the HTTP status (101 when accepted). */
function upgradeStatus(port: number, forwardedFor?: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({
      port,
      host: '127.0.0.1',
      path: '/ws',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...(forwardedFor === undefined ? {} : { 'X-Forwarded-For': forwardedFor }),
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, retryAfter: undefined });
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] });
    });
    req.on('error', reject);
    req.end();
  });
}

void describe('connection attempts per IP', () => {
  void test('the 4th upgrade within 10 s from one IP gets 429 with Retry-After (limit 3)', async () => {
    const edge = await startRealtime({ config, logger, edge: { REALTIME_CONNECTIONS_PER_IP_PER_10S: 3 } });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await upgradeStatus(edge.port)).status, 101);
      const refused = await upgradeStatus(edge.port);
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.retryAfter) >= 1 && Number(refused.retryAfter) <= 10);
      await assert.rejects(openClient(edge.port));
      // Without TRUSTED_PROXIES the header is the client's word: it does not make a new client.
      assert.equal((await upgradeStatus(edge.port, '198.51.100.9')).status, 429);
    } finally {
      await edge.close();
    }
  });

  void test('behind a trusted proxy (TRUSTED_PROXIES) each viewer has its own budget, keyed on the first untrusted X-Forwarded-For hop', async () => {
    const edge = await startRealtime({ config, logger, edge: { REALTIME_CONNECTIONS_PER_IP_PER_10S: 2, TRUSTED_PROXIES: ['127.0.0.1', '::1'] } });
    try {
      const a = [await upgradeStatus(edge.port, '198.51.100.1'), await upgradeStatus(edge.port, '198.51.100.1'), await upgradeStatus(edge.port, '198.51.100.1')];
      assert.deepEqual(a.map((r) => r.status), [101, 101, 429], 'viewer A spends its budget');
      assert.equal((await upgradeStatus(edge.port, '198.51.100.2')).status, 101, 'viewer B behind the same proxy has its own');
      assert.equal((await upgradeStatus(edge.port, '6.6.6.6, 198.51.100.1')).status, 429, 'a spoofed left part is ignored');
    } finally {
      await edge.close();
    }
  });
});
