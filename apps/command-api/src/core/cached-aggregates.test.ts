import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { streams } from '@eventcast/events';
import { chatRoomDecider, DomainError, type ChatChannel, type ChatRoomCommand, type ChatRoomEvent, type ChatRoomState, type ChatUser } from '@eventcast/domain';
import { PostgresEventStore, WrongExpectedRevisionError, type EventStore } from '@eventcast/event-store';
import { createTestDatabase, type TestDatabase } from '@eventcast/platform';
import { CachedAggregates } from './cached-aggregates.js';

/** The store with call counters. */
interface CountingStore extends EventStore {
  appends: number;
  reads: number;
}

function counting(store: EventStore): CountingStore {
  const c = Object.create(store) as CountingStore;
  c.appends = 0;
  c.reads = 0;
  c.append = (...args) => {
    c.appends++;
    return store.append(...args);
  };
  c.readStream = (...args) => {
    c.reads++;
    return store.readStream(...args);
  };
  return c;
}

type Rooms = CachedAggregates<ChatRoomCommand, ChatRoomEvent, ChatRoomState>;

const userOf = (name: string): ChatUser => ({ id: randomUUID(), name });

describe('CachedAggregates: group commit', () => {
  let db: TestDatabase;
  let pg: PostgresEventStore;
  before(async () => {
    db = await createTestDatabase('command_api_cache_test');
    pg = new PostgresEventStore({ connectionString: db.url });
    await pg.migrate();
  });
  after(async () => {
    await pg.close();
    await db.drop();
  });

  /** A fresh channel, its owner and helpers to send and ban through `rooms`. */
  function channel() {
    const owner = userOf('owner');
    const ch: ChatChannel = { id: owner.id, username: owner.name, ownerId: owner.id };
    const stream = streams.chat(ch.id);
    const send = (rooms: Rooms, sender: ChatUser, text: string) =>
      rooms.handle(stream, () => ({ type: 'SendChatMessage', messageId: randomUUID(), sender, text, now: new Date(), follows: false, channel: ch }), { actorId: sender.id });
    const ban = (rooms: Rooms, target: ChatUser) => rooms.handle(stream, () => ({ type: 'BanUser', channel: ch, actor: owner, target }), { actorId: owner.id });
    const unban = (rooms: Rooms, target: ChatUser) => rooms.handle(stream, () => ({ type: 'UnbanUser', channel: ch, actor: owner, target }), { actorId: owner.id });
    const stored = () => pg.readStream(stream);
    return { owner, ch, stream, send, ban, unban, stored };
  }

  it('appends 50 concurrent commands in a few appends, in order, each with its own revision and metadata', async () => {
    const store = counting(pg);
    const rooms: Rooms = new CachedAggregates(store, chatRoomDecider);
    const c = channel();
    const mod = userOf('moderator'); // owner and moderators skip the rate limit
    await rooms.handle(c.stream, () => ({ type: 'AddModerator', channel: c.ch, actor: c.owner, target: mod }), {});
    await c.send(rooms, c.owner, 'warm up');
    store.appends = 0;
    store.reads = 0;
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => c.send(rooms, i % 2 ? mod : c.owner, `m${i}`)));
    const events = await c.stored();
    assert.deepEqual(events.map((e) => (e.data as { text?: string }).text), [undefined, 'warm up', ...outcomes.map((_, i) => `m${i}`)]);
    assert.deepEqual(events.map((e) => e.revision), events.map((_, i) => BigInt(i)));
    for (const [i, o] of outcomes.entries()) {
      assert.equal(o.events.length, 1);
      assert.equal(o.revision, BigInt(i + 2));
      assert.equal(events[i + 2]?.metadata.actorId, i % 2 ? mod.id : c.owner.id);
      assert.equal((events[i + 2]?.data as { messageId: string }).messageId, (o.events[0]?.data as { messageId: string }).messageId);
    }
    // At most the first command goes alone (when the lane was idle), the ones queued behind it go together; the warm
    // cache (this instance made the last append) needs no read.
    assert.ok(store.appends <= 2, `${store.appends} appends`);
    assert.equal(store.reads, 0);
    const stats = rooms.stats();
    assert.ok(stats.largestGroup >= 49);
    assert.equal(stats.conflicts, 0);
  });

  it('refuses a command inside a group without affecting the others; a ban in the group applies to later sends', async () => {
    const store = counting(pg);
    const rooms: Rooms = new CachedAggregates(store, chatRoomDecider);
    const c = channel();
    const [a, b] = [userOf('user_a'), userOf('user_b')];
    await c.ban(rooms, b);
    store.appends = 0;
    const results = await Promise.allSettled([
      c.send(rooms, a, 'first'),
      c.send(rooms, a, 'one'),
      c.send(rooms, b, 'banned before'),
      c.send(rooms, a, '  '),
      c.unban(rooms, b),
      c.send(rooms, b, 'back'),
      c.ban(rooms, a),
      c.send(rooms, a, 'too late'),
      c.send(rooms, b, 'last'),
    ]);
    const codes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason instanceof DomainError ? r.reason.code : String(r.reason)));
    assert.deepEqual(codes, ['ok', 'ok', 'banned', 'empty', 'ok', 'ok', 'ok', 'banned', 'ok']);
    const events = await c.stored();
    assert.deepEqual(
      events.map((e) => `${e.type}:${(e.data as { text?: string }).text ?? ''}`),
      ['ChatUserBanned:', 'ChatMessageSent:first', 'ChatMessageSent:one', 'ChatUserUnbanned:', 'ChatMessageSent:back', 'ChatUserBanned:', 'ChatMessageSent:last'],
    );
    assert.ok(store.appends <= 2, `${store.appends} appends`);
  });

  it('re-decides the whole group on fresh state when another writer appended (WrongExpectedRevisionError)', async () => {
    const store = counting(pg);
    const rooms: Rooms = new CachedAggregates(store, chatRoomDecider);
    const other: Rooms = new CachedAggregates(pg, chatRoomDecider);
    const c = channel();
    const [a, b] = [userOf('user_a'), userOf('user_b')];
    await c.send(rooms, a, 'warm');
    await c.ban(other, b); // this instance's cache does not know
    const results = await Promise.allSettled([c.send(rooms, a, 'x'), c.send(rooms, b, 'y'), c.send(rooms, a, 'z'), c.send(rooms, b, 'w')]);
    assert.deepEqual(results.map((r) => r.status === 'fulfilled' || (r.reason as DomainError).code), [true, 'banned', true, 'banned']);
    const events = await c.stored();
    assert.deepEqual(events.map((e) => `${e.type}:${(e.data as { text?: string }).text ?? ''}`), ['ChatMessageSent:warm', 'ChatUserBanned:', 'ChatMessageSent:x', 'ChatMessageSent:z']);
    const revisions = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.revision] : []));
    assert.deepEqual(revisions, [2n, 3n]);
    assert.equal(rooms.stats().conflicts, 1);
  });

  it('confirms a refusal decided on an unconfirmed cache: the stream moved, so the command is decided again', async () => {
    const rooms: Rooms = new CachedAggregates(pg, chatRoomDecider);
    const other: Rooms = new CachedAggregates(pg, chatRoomDecider);
    const c = channel();
    const a = userOf('user_a');
    await c.ban(rooms, a);
    await c.unban(other, a);
    const sent = await c.send(rooms, a, 'unbanned elsewhere');
    assert.equal(sent.events[0]?.type, 'ChatMessageSent');
    assert.equal(sent.revision, 2n);
    await c.ban(other, a);
    await assert.rejects(c.send(rooms, a, 'banned elsewhere'), (err: unknown) => err instanceof DomainError && err.code === 'banned');
  });

  it('gives up after maxAttempts conflicts and rejects the whole group', async () => {
    const c = channel();
    const racing = Object.create(pg) as EventStore;
    racing.append = () => Promise.reject(new WrongExpectedRevisionError(c.stream, 0n, 1n));
    const rooms: Rooms = new CachedAggregates(racing, chatRoomDecider, { maxAttempts: 3 });
    const a = userOf('user_a');
    const results = await Promise.allSettled([c.send(rooms, a, '1'), c.send(rooms, a, '2'), c.send(rooms, a, '')]);
    for (const r of results.slice(0, 2)) assert.ok(r.status === 'rejected' && r.reason instanceof WrongExpectedRevisionError);
    assert.ok(results[2]?.status === 'rejected');
    assert.deepEqual(await c.stored(), []);
  });

  it('caps a group at maxGroupSize', async () => {
    const store = counting(pg);
    const rooms: Rooms = new CachedAggregates(store, chatRoomDecider, { maxGroupSize: 10 });
    const c = channel();
    const outcomes = await Promise.all(Array.from({ length: 31 }, (_, i) => c.send(rooms, c.owner, `m${i}`)));
    assert.equal(outcomes.at(-1)?.revision, 30n);
    assert.equal(store.appends, 4); // 1 + 10 + 10 + 10
    assert.equal(rooms.stats().largestGroup, 10);
  });
});
