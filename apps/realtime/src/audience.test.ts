/**
 * Analytics input of the edge (./audience.ts) with two real edges, real Redis and a private nats-server, the command
 * side played by a NestJS NATS microservice that records what it is asked (the full path through the real command
 * side is tests/e2e/src/analytics.test.ts): one sampler per channel per period whatever the number of edges, samples
 * are the totals over both edges, viewer keys are sent once per broadcast (account ids for users, keyed hashes for
 * guests, a browser session counted once across edges), retried after `not_live`.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { CommandPatterns } from '@eventcast/events';
import { createLogger, loadConfig } from '@eventcast/platform';
import { startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';
import { viewerKey } from './audience.js';
import { startChatResponder, type ChatResponder } from './chat-fixtures.js';
import { startRealtime, type RealtimeServer } from './server.js';
import { poll, signToken, sleep } from './test-support.js';

const logger = createLogger('realtime-test');
logger.level = process.env['LOG_LEVEL'] ?? 'warn';
const run = randomBytes(4).toString('hex');
const channel = `aud_${run}`;
const channelId = randomUUID();
const broadcastId = randomUUID();
let config = { ...loadConfig(), REALTIME_PORT: 0, HOST: '127.0.0.1' };

interface Recorded {
  samples: { channelId: string; viewers: number; chatters: number; sampledAt: string; intervalSeconds: number }[];
  joined: { channelId: string; viewerKeys: string[] }[];
  live: boolean;
}

async function startAudienceResponder(natsUrl: string, rec: Recorded): Promise<INestMicroservice> {
  @Controller()
  class AudienceController {
    @MessagePattern(CommandPatterns.AudienceSample)
    sample(@Payload() data: Recorded['samples'][number]): unknown {
      if (!rec.live) return { ok: false, code: 'not_live', message: 'the channel is not live' };
      rec.samples.push(data);
      return { ok: true, broadcastId, recorded: 1 };
    }

    @MessagePattern(CommandPatterns.AudienceViewersJoined)
    joined(@Payload() data: Recorded['joined'][number]): unknown {
      if (!rec.live) return { ok: false, code: 'not_live', message: 'the channel is not live' };
      rec.joined.push(data);
      return { ok: true, broadcastId, recorded: data.viewerKeys.length };
    }
  }
  @Module({ controllers: [AudienceController] })
  class ResponderModule {}
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(ResponderModule, { transport: Transport.NATS, options: { servers: [natsUrl] }, logger: false });
  await app.listen();
  return app;
}

void describe('audience sampling and unique viewers across two edges', () => {
  let nats: PrivateNatsServer;
  let resolver: ChatResponder;
  let responder: INestMicroservice;
  let edgeA: RealtimeServer;
  let edgeB: RealtimeServer;
  const rec: Recorded = { samples: [], joined: [], live: false };
  const userId = randomUUID();

  before(async () => {
    nats = await startPrivateNats();
    config = { ...config, NATS_URL: nats.url };
    resolver = await startChatResponder(nats.url);
    resolver.channels.set(channel, channelId);
    responder = await startAudienceResponder(nats.url, rec);
    const start = () =>
      startRealtime({
        config,
        logger,
        waitForRelay: true,
        edge: { REALTIME_CONNECTIONS_PER_IP_PER_10S: 0 },
        presence: { refreshMs: 500 },
        audience: { sampleSeconds: 1, joinFlushMs: 100 },
      });
    edgeA = await start();
    edgeB = await start();
  });

  after(async () => {
    await edgeA.close();
    await edgeB.close();
    await responder.close();
    await resolver.close();
    await nats.dispose();
  });

  test('one sample per channel per period with the totals of both edges; viewer keys once, hashed for guests', async () => {
    const sid = 'browser-session-0001';
    const token = await signToken(config.JWT_SECRET, userId, `aud_user_${run}`);
    const connect = async (edge: RealtimeServer, query: string): Promise<WebSocket> => {
      const ws = new WebSocket(`ws://127.0.0.1:${edge.port}/ws?${query}`);
      await new Promise<void>((r, j) => {
        ws.addEventListener('message', () => r(), { once: true });
        ws.addEventListener('error', () => j(new Error('ws error')));
      });
      return ws;
    };
    const sockets = [await connect(edgeA, `sid=${sid}`), await connect(edgeB, `sid=${sid}`), await connect(edgeA, 'sid=browser-session-0002'), await connect(edgeB, `token=${token}`)];
    await sleep(200); // the token is verified after open
    for (const ws of sockets) ws.send(JSON.stringify({ type: 'subscribe', channel }));

    await sleep(1500); // offline: the command side refuses, nothing is recorded
    assert.equal(rec.samples.length + rec.joined.length, 0);
    rec.live = true;
    const keys = await poll(
      () => Promise.resolve(new Set(rec.joined.flatMap((j) => j.viewerKeys))),
      (s) => s.size === 3,
      8000,
    );
    assert.deepEqual([...keys].sort(), [`account:${userId}`, viewerKey(null, sid, config.JWT_SECRET), viewerKey(null, 'browser-session-0002', config.JWT_SECRET)].sort());
    assert.ok([...keys].every((k) => !k.includes('browser-session')), 'session ids are hashed');
    await poll(
      () => Promise.resolve(rec.samples.filter((s) => s.viewers === 4).length),
      (n) => n >= 3,
      8000,
    );
    const periods = rec.samples.map((s) => Math.floor(Date.parse(s.sampledAt) / 1000));
    assert.equal(new Set(periods).size, periods.length, `one sample per period: ${JSON.stringify(rec.samples.map((s) => s.sampledAt))}`);
    assert.ok(rec.samples.every((s) => s.channelId === channelId && s.intervalSeconds === 1 && s.chatters <= s.viewers));
    assert.ok(rec.samples.some((s) => s.viewers === 4 && s.chatters === 1), 'totals over both edges, the signed-in viewer as a chatter');
    const sent = rec.joined.flatMap((j) => j.viewerKeys);
    assert.equal(sent.length, 4, 'each key once per edge that has it (the shared guest session on both; the command side records it once)');
    for (const ws of sockets) ws.close();
  });

  test('viewerKey: account ids for users, a stable keyed hash for guests', () => {
    const id = randomUUID();
    assert.equal(viewerKey({ id, username: 'x', expiresAt: null }, 's', 'k'), `account:${id}`);
    assert.match(viewerKey(null, 'session-1', 'k'), /^guest:[0-9a-f]{32}$/);
    assert.equal(viewerKey(null, 'session-1', 'k'), viewerKey(null, 'session-1', 'k'));
    assert.notEqual(viewerKey(null, 'session-1', 'k'), viewerKey(null, 'session-1', 'other secret'));
    assert.match(viewerKey({ id: 'not-a-uuid', username: 'x', expiresAt: null }, 's', 'k'), /^guest:/);
  });
});
