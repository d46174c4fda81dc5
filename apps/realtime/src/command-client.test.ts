/**
 * The edge's `chat.send` client (./command-client.ts) against a real Nest responder on a private nats-server:
 * sends to one channel made in one event-loop turn go out as one `chat.send-batch` (one per channel) and each
 * caller gets its own reply, a slow room never holding another room's reply; a channel
 * with `maxInFlightPerChannel` sends awaiting replies refuses the next one at once (ChatBusyError) while other
 * channels are unaffected; no responder → every caller of the batch gets CommandUnavailableError.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { startPrivateNats, type PrivateNatsServer } from '@eventcast/launcher';
import type { ChatSendRequest } from '@eventcast/contracts';
import { ChatBusyError, ChatCommandClient, CommandUnavailableError } from './command-client.js';
import { startChatResponder, type ChatResponder } from './chat-fixtures.js';

let natsServer: PrivateNatsServer;
let nc: NatsConnection;
let responder: ChatResponder;

before(async () => {
  natsServer = await startPrivateNats();
  nc = await connect({ servers: natsServer.url });
  responder = await startChatResponder(natsServer.url);
});

after(async () => {
  await responder.close();
  await nc.close();
  await natsServer.stop();
});

const req = (channelId: string, text: string): ChatSendRequest => ({ channelId, senderId: randomUUID(), senderName: 'sender_one', text, nonce: randomUUID() });

void describe('ChatCommandClient', () => {
  void test('sends of one event-loop turn go as one batch; each caller gets its own reply', async () => {
    const client = new ChatCommandClient(() => nc, 3000);
    responder.received.length = 0;
    responder.batches = 0;
    responder.behaviour = (d) => (String(d['text']).startsWith('bad') ? { ok: false, code: 'blocked_term', message: 'no' } : { ok: true, messageId: `id-${String(d['text'])}`, visibleAt: '2026-12-07T12:00:00.000Z' });
    const channel = randomUUID();
    const replies = await Promise.all(['a', 'bad b', 'c'].map((t) => client.send(req(channel, t))));
    assert.deepEqual(
      replies.map((r) => (r.ok ? r.messageId : r.code)),
      ['id-a', 'blocked_term', 'id-c'],
    );
    assert.equal(responder.batches, 1, 'three sends, one request');
    assert.equal(client.inFlightOf(channel), 0);
  });

  void test('a channel at its in-flight limit refuses at once; other channels still send', async () => {
    const client = new ChatCommandClient(() => nc, 3000, { maxInFlightPerChannel: 2 });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    responder.behaviour = async (d) => {
      if (String(d['text']).startsWith('slow')) await held;
      return { ok: true, messageId: `id-${String(d['text'])}`, visibleAt: '2026-12-07T12:00:00.000Z' };
    };
    const hot = randomUUID();
    const first = [client.send(req(hot, 'slow 1')), client.send(req(hot, 'slow 2'))];
    await assert.rejects(client.send(req(hot, 'slow 3')), (e: unknown) => e instanceof ChatBusyError && e instanceof CommandUnavailableError);
    assert.equal(client.inFlightOf(hot), 2);
    // Queued in the same event-loop turn as the held sends, but another channel: its own batch, answered at once.
    const other = await client.send(req(randomUUID(), 'quick'));
    assert.equal(other.ok, true);
    release();
    assert.deepEqual((await Promise.all(first)).map((r) => r.ok), [true, true]);
    assert.equal(client.inFlightOf(hot), 0);
    assert.equal((await client.send(req(hot, 'slow 4'))).ok, true, 'admitted again once replies came back');
  });

  void test('the edge-wide limit holds when every channel is below its own', async () => {
    const client = new ChatCommandClient(() => nc, 3000, { maxInFlightPerChannel: 0, maxInFlight: 2 });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    responder.behaviour = async (d) => {
      await held;
      return { ok: true, messageId: `id-${String(d['text'])}`, visibleAt: '2026-12-07T12:00:00.000Z' };
    };
    const first = [client.send(req(randomUUID(), 'one')), client.send(req(randomUUID(), 'two'))];
    await assert.rejects(client.send(req(randomUUID(), 'three')), (e: unknown) => e instanceof ChatBusyError && /on this edge/.test((e as Error).message));
    release();
    assert.deepEqual((await Promise.all(first)).map((r) => r.ok), [true, true]);
    assert.equal((await client.send(req(randomUUID(), 'four'))).ok, true);
  });

  void test('no responder: every caller of the batch gets CommandUnavailableError', async () => {
    const client = new ChatCommandClient(() => nc, 500);
    await responder.close();
    try {
      const channel = randomUUID();
      const results = await Promise.allSettled([client.send(req(channel, 'x')), client.send(req(channel, 'y'))]);
      for (const r of results) assert.ok(r.status === 'rejected' && r.reason instanceof CommandUnavailableError);
      assert.equal(client.inFlightOf(channel), 0, 'the failed sends left no count behind');
    } finally {
      responder = await startChatResponder(natsServer.url);
    }
  });
});
