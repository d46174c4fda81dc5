/**
 * Event schema evolution (issue 4, part 4): `ChatMessageSent` v1 (no `sentAt`) written in the OLD shape straight
 * into the store's table is read as v2 — `sentAt` = the event's `occurredAt` — by replay, by the live projector
 * (catch-up at start and the JetStream path) and by a blue/green rebuild.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eventVersions, newEvent, streams, type WireEvent } from '@eventcast/events';
import { loadEvents, type RawEvent } from './generate.js';
import { createStoreDb, runCli, startLiveSlice, waitFor, type LiveSlice, type StoreDb } from './test-support.js';

const channel = { id: randomUUID(), name: 'upcast_chan' };
const viewer = { id: randomUUID(), name: 'upcast_viewer' };

/** A ChatMessageSent in the v1 shape (no `sentAt`), as stored before issue 4. */
function v1Message(text: string, at: Date): RawEvent & { id: string } {
  return {
    id: randomUUID(),
    stream: streams.chat(channel.id),
    type: 'ChatMessageSent',
    version: 1,
    data: {
      channelId: channel.id,
      username: channel.name,
      messageId: randomUUID(),
      senderId: viewer.id,
      senderName: viewer.name,
      senderRole: 'viewer',
      text,
      maskedTerms: 0,
      visibleAt: at.toISOString(),
    },
    occurredAt: at,
  };
}

interface MessageView {
  id: string;
  text: string;
  sentAt: string;
}

void describe('ChatMessageSent v1 → v2 upcasting', () => {
  let s: StoreDb;
  let slice: LiveSlice | undefined;
  const old = [v1Message('old one', new Date('2026-01-05T10:00:00.000Z')), v1Message('old two', new Date('2026-01-05T10:00:02.500Z'))];

  before(async () => {
    s = await createStoreDb();
    await s.store.append(streams.account(channel.id), [newEvent('AccountRegistered', { accountId: channel.id, username: channel.name, passwordHash: '$argon2id$v=19$x' })], 'no_stream');
    await loadEvents(s.store.pool, old);
    const now = new Date().toISOString();
    await s.store.append(
      streams.chat(channel.id),
      [newEvent('ChatMessageSent', { channelId: channel.id, username: channel.name, messageId: randomUUID(), senderId: viewer.id, senderName: viewer.name, senderRole: 'viewer', text: 'new one', maskedTerms: 0, sentAt: now, visibleAt: now })],
      'any',
    );
  });
  after(async () => {
    await slice?.close();
    await s.close();
  });

  void it('stores the old events as version 1 and producers write version 2', async () => {
    const r = await s.store.pool.query<{ version: number; has: boolean }>(
      "SELECT version, data ? 'sentAt' AS has FROM eventstore.events WHERE type = 'ChatMessageSent' ORDER BY global_position",
    );
    assert.deepEqual(r.rows, [
      { version: 1, has: false },
      { version: 1, has: false },
      { version: 2, has: true },
    ]);
    assert.equal(eventVersions.ChatMessageSent, 2);
  });

  void it('replay outputs them as version 2 with sentAt = occurredAt (with and without --validate-all)', async () => {
    for (const extra of [[], ['--validate-all']]) {
      const r = await runCli(s.db.url, ['replay', '--type', 'ChatMessageSent', ...extra]);
      assert.equal(r.code, 0, r.stderr);
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as WireEvent);
      assert.equal(events.length, 3);
      for (const e of events) assert.equal(e.version, 2);
      const [a, b] = events as [WireEvent, WireEvent];
      assert.equal((a.data as { sentAt: string }).sentAt, '2026-01-05T10:00:00.000Z');
      assert.equal(a.occurredAt, '2026-01-05T10:00:00.000Z');
      assert.equal((b.data as { sentAt: string }).sentAt, '2026-01-05T10:00:02.500Z');
    }
  });

  void it('the live projector reads them as v2: catch-up at start and JetStream deliveries', async () => {
    slice = await startLiveSlice(s.db.url, s.store);
    const url = `${slice.base}/channels/${channel.name}/chat/messages`;
    const page = async () => ((await (await fetch(url)).json()) as { messages: MessageView[] }).messages;
    const first = await waitFor(async () => ((await page()).length === 3 ? page() : undefined), 20_000, 'caught-up messages');
    assert.equal(first.find((m) => m.text === 'old one')?.sentAt, '2026-01-05T10:00:00.000Z');
    assert.equal(first.find((m) => m.text === 'old two')?.sentAt, '2026-01-05T10:00:02.500Z');
    // An old-shape event appended while the projector runs travels store → publisher → JetStream (as version 1).
    const late = v1Message('old three', new Date('2026-01-05T10:00:09.000Z'));
    await loadEvents(s.store.pool, [late]);
    const live = await waitFor(async () => (await page()).find((m) => m.text === 'old three'), 20_000, 'the live v1 message');
    assert.equal(live.sentAt, '2026-01-05T10:00:09.000Z');
    const applied = await s.store.pool.query<{ sent_at: Date }>('SELECT sent_at FROM readmodels.chat_messages WHERE global_position = (SELECT max(global_position) FROM eventstore.events)');
    assert.equal(applied.rows[0]?.sent_at.toISOString(), '2026-01-05T10:00:09.000Z');
  });

  void it('a blue/green rebuild reads them as v2 and ends equal to the live read model', async () => {
    const before = await s.store.pool.query<{ id: string; sent_at: Date }>('SELECT id, sent_at FROM readmodels.chat_messages ORDER BY global_position');
    const r = await runCli(s.db.url, ['projections', 'rebuild', 'chat-messages']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /rebuilt chat-messages, chat-rooms, moderation-log: \d+ events/);
    const rebuilt = await s.store.pool.query<{ id: string; sent_at: Date }>('SELECT id, sent_at FROM readmodels.chat_messages ORDER BY global_position');
    assert.deepEqual(rebuilt.rows, before.rows);
    assert.equal(rebuilt.rows[0]?.sent_at.toISOString(), '2026-01-05T10:00:00.000Z');
    const v = await runCli(s.db.url, ['projections', 'verify', 'chat-messages']);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /EQUAL/);
  });
});
