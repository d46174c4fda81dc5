/**
 * The webhook dispatcher and sender of query-api against real PostgreSQL, a private nats-server (JetStream) and a
 * local HTTP receiver: a pending retry survives a restart of query-api (pg-boss keeps it in PostgreSQL), a redelivered
 * event adds no second delivery, events from before a webhook's registration and of other channels are not sent, and a
 * deleted webhook's pending retry is cancelled.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { EVENTS_JETSTREAM, EVENTS_SUBJECT_PREFIX, eventSubject, streams, toWire, type RecordedEvent } from '@eventcast/events';
import { startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';
import { createTestDatabase, encryptSecret, generateWebhookSecret, type TestDatabase } from '@eventcast/platform';
import { bootstrapQueryApi, type RunningQueryApi } from '../bootstrap.js';
import type { QueryApiConfig } from '../config.js';
import { MemoryEventLog, register } from '@eventcast/read-models/testing';
import { testLogger, waitFor } from '../testing/harness.js';
import { ensureTopology } from '../messaging/jetstream-setup.js';
import { deliveryIdOf } from './webhook-dispatcher.js';

const SECRET_KEY = 'cd'.repeat(32);

describe('webhook dispatcher and sender (query-api)', () => {
  let db: TestDatabase;
  let nats: PrivateNatsServer;
  let nc: NatsConnection;
  let receiver: Server;
  let url: string;
  const log = new MemoryEventLog();
  /** What the receiver answers next: a status code. */
  let answer = 503;
  const received: { id: string; eventId: string; at: number }[] = [];
  let api: RunningQueryApi | undefined;

  const config = (): QueryApiConfig => ({
    port: 0,
    host: '127.0.0.1',
    databaseUrl: db.url,
    natsUrl: nats.url,
    hlsPublicUrl: '',
    eventStore: log,
    shutdownHooks: false,
    jetstream: { stream: EVENTS_JETSTREAM, subjects: [`${EVENTS_SUBJECT_PREFIX}.>`], consumer: 'qa-projections', maxAckPending: 256, batchSize: 64, ackWaitMs: 5_000, retryDelayMs: 200 },
    webhooks: {
      consumer: 'qa-webhooks',
      maxAttempts: 6,
      retryDelaySeconds: 2,
      retryDelayMaxSeconds: 60,
      timeoutMs: 2_000,
      pollingIntervalSeconds: 0.5,
      concurrency: 2,
      secretKey: SECRET_KEY,
      allowPrivateNetworks: true,
    },
  });

  /** Publishes `event` as the command side's publisher does (subject, headers, `Nats-Msg-Id`). */
  async function publish(event: RecordedEvent, msgId = event.id): Promise<void> {
    const h = headers();
    h.set('Eventcast-Global-Position', event.globalPosition.toString());
    h.set('Eventcast-Event-Type', event.type);
    await jetstream(nc).publish(eventSubject(event.streamName, event.type, event.data), JSON.stringify(toWire(event)), { msgID: msgId, headers: h });
  }

  async function fetchLog(webhookId: string): Promise<{ id: string; status: string; attempts: { attempt: number; statusCode: number | null; succeeded: boolean }[] }[]> {
    const { createReadModelDb } = await import('@eventcast/read-models');
    const { deliveryLogOf } = await import('./delivery-log.js');
    const { root } = createReadModelDb(db.url, 1);
    try {
      const l = deliveryLogOf(root);
      const rows = await l.selectFrom('webhook_deliveries').select(['id', 'status']).where('webhook_id', '=', webhookId).orderBy('global_position').execute();
      const out = [];
      for (const r of rows) {
        const attempts = await l.selectFrom('webhook_delivery_attempts').select(['attempt', 'status_code', 'succeeded']).where('delivery_id', '=', r.id).orderBy('attempt').execute();
        out.push({ id: r.id, status: r.status, attempts: attempts.map((a) => ({ attempt: a.attempt, statusCode: a.status_code, succeeded: a.succeeded })) });
      }
      return out;
    } finally {
      await root.destroy();
    }
  }

  before(async () => {
    db = await createTestDatabase('qa_webhooks');
    nats = await startPrivateNats();
    nc = await connect({ servers: nats.url });
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string };
        received.push({ id: String(req.headers['webhook-id']), eventId: body.id, at: Date.now() });
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });

  after(async () => {
    await api?.close();
    await nc?.close();
    await nats?.dispose();
    await db?.drop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('keeps a pending retry across a restart, never delivers twice, and respects registration time and channel', async () => {
    const { channelId, event: registered } = register(log, 'hooked');
    const other = register(log, 'other_channel');
    const webhookId = randomUUID();
    const room = { channelId, username: 'hooked' };
    const chat = (text: string, channel = room) =>
      log.append(streams.chat(channel.channelId), 'ChatMessageSent', {
        ...channel,
        messageId: randomUUID(),
        senderId: channel.channelId,
        senderName: channel.username,
        senderRole: 'owner',
        text,
        maskedTerms: 0,
        sentAt: new Date().toISOString(),
        visibleAt: new Date().toISOString(),
      });
    const early = chat('before the webhook existed');
    const hook = log.append(streams.integrations(channelId), 'WebhookRegistered', {
      channelId,
      webhookId,
      url,
      eventTypes: ['ChatMessageSent'],
      secretCiphertext: encryptSecret(generateWebhookSecret(), SECRET_KEY),
    });
    const elsewhere = chat('another channel', { channelId: other.channelId, username: 'other_channel' });
    const message = chat('deliver me');
    // The stream as the publisher would create it (no stream yet: nothing has been published).
    await ensureTopology(nc, { ...config().jetstream, consumer: 'qa-setup' });
    for (const e of [registered, other.event, early, hook, elsewhere, message]) await publish(e);

    api = await bootstrapQueryApi(config(), testLogger());
    const first = await waitFor(async () => (await fetchLog(webhookId)).find((d) => d.attempts.length >= 1), 15_000, 'the first attempt');
    assert.deepEqual(first.attempts[0], { attempt: 1, statusCode: 503, succeeded: false });
    assert.equal(first.id, deliveryIdOf(webhookId, message.id));

    // Stop query-api before the retry is due (≥ 2 s), let the receiver recover, start a new process.
    await api.close();
    api = undefined;
    answer = 204;
    const restartedAt = Date.now();
    api = await bootstrapQueryApi(config(), testLogger());
    const done = await waitFor(async () => (await fetchLog(webhookId)).find((d) => d.status === 'succeeded'), 20_000, 'the retried delivery');
    assert.equal(done.attempts.at(-1)!.succeeded, true);
    assert.equal(done.attempts[0]!.statusCode, 503);
    const success = received.filter((r) => r.eventId === message.id).at(-1)!;
    assert.ok(success.at >= restartedAt, 'the successful attempt was made by the restarted process');
    assert.equal(new Set(received.map((r) => r.id)).size, 1, 'one delivery id for every attempt');

    // A redelivered copy of the event (a new message id defeats JetStream's de-duplication) adds nothing.
    await publish(message, `${message.id}-again`);
    const marker = chat('marker');
    await publish(marker);
    await waitFor(async () => (await fetchLog(webhookId)).length === 2, 15_000, 'the marker delivery');
    const all = await fetchLog(webhookId);
    assert.deepEqual(all.map((d) => d.id), [deliveryIdOf(webhookId, message.id), deliveryIdOf(webhookId, marker.id)]);
    assert.ok(!received.some((r) => r.eventId === early.id), 'no event from before the registration');
    assert.ok(!received.some((r) => r.eventId === elsewhere.id), 'no event of another channel');

    // Deleting the webhook cancels a delivery still waiting for its retry.
    answer = 500;
    const doomed = chat('doomed');
    await publish(doomed);
    await waitFor(async () => (await fetchLog(webhookId)).find((d) => d.id === deliveryIdOf(webhookId, doomed.id) && d.attempts.length === 1), 15_000, 'the doomed first attempt');
    await publish(log.append(streams.integrations(channelId), 'WebhookDeleted', { channelId, webhookId }));
    const cancelled = await waitFor(async () => (await fetchLog(webhookId)).find((d) => d.id === deliveryIdOf(webhookId, doomed.id) && d.status === 'cancelled'), 20_000, 'the cancellation');
    assert.equal(cancelled.attempts.length, 1);
  });
  it('a channel seen without webhooks gets the events after its first webhook (the dispatcher cache follows the log)', async () => {
    answer = 204;
    const { channelId, event: registered } = register(log, 'late_hook');
    const room = { channelId, username: 'late_hook' };
    const webhookId = randomUUID();
    const chat = (text: string) =>
      log.append(streams.chat(channelId), 'ChatMessageSent', {
        ...room,
        messageId: randomUUID(),
        senderId: channelId,
        senderName: room.username,
        senderRole: 'owner',
        text,
        maskedTerms: 0,
        sentAt: new Date().toISOString(),
        visibleAt: new Date().toISOString(),
      });
    const before = chat('nobody listens yet');
    for (const e of [registered, before]) await publish(e);
    // Let the dispatcher see (and cache) the channel without webhooks.
    await new Promise((r) => setTimeout(r, 1500));
    await publish(
      log.append(streams.integrations(channelId), 'WebhookRegistered', {
        channelId,
        webhookId,
        url,
        eventTypes: ['ChatMessageSent'],
        secretCiphertext: encryptSecret(generateWebhookSecret(), SECRET_KEY),
      }),
    );
    const after = chat('now somebody does');
    await publish(after);
    await waitFor(async () => (await fetchLog(webhookId)).find((d) => d.status === 'succeeded'), 15_000, 'the delivery after registration');
    assert.deepEqual((await fetchLog(webhookId)).map((d) => d.id), [deliveryIdOf(webhookId, after.id)]);
    assert.ok(!received.some((r) => r.eventId === before.id));
  });
});
