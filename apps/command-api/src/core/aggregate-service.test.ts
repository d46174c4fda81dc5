import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { InvalidEventError, streams, type EventMetadata } from '@eventcast/events';
import { broadcastDecider, chatRoomDecider, DomainError, type BroadcastCommand, type BroadcastEvent, type BroadcastState, type ChatChannel, type ChatRoomCommand, type ChatRoomEvent, type ChatRoomState, type ChatUser } from '@eventcast/domain';
import { PostgresEventStore, WrongExpectedRevisionError, type EventStore } from '@eventcast/event-store';
import { createTestDatabase, type TestDatabase } from '@eventcast/platform';
import { AggregateService, backoffMs, type AggregateCacheOptions } from './aggregate-service.js';
import { isInfrastructureError } from './infrastructure-errors.js';

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

type Rooms = AggregateService<ChatRoomCommand, ChatRoomEvent, ChatRoomState>;

/** Chat rooms behind a cache (as chat/chat-rooms.ts has them), with `decider` and the options given. */
function cachedRooms(store: EventStore, decider = chatRoomDecider, options: Partial<AggregateCacheOptions> & { maxAttempts?: number } = {}): Rooms {
  const { maxAttempts, ...cache } = options;
  return new AggregateService(store, decider, streams.chat, { cache: { capacity: 1000, ...cache }, ...(maxAttempts === undefined ? {} : { maxAttempts }) });
}

const userOf = (name: string): ChatUser => ({ id: randomUUID(), name });

describe('AggregateService with a cache: group commit', () => {
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
      rooms.handle(ch.id, () => ({ type: 'SendChatMessage', messageId: randomUUID(), sender, text, now: new Date(), follows: false, channel: ch }), { actorId: sender.id });
    const ban = (rooms: Rooms, target: ChatUser) => rooms.handle(ch.id, () => ({ type: 'BanUser', channel: ch, actor: owner, target }), { actorId: owner.id });
    const unban = (rooms: Rooms, target: ChatUser) => rooms.handle(ch.id, () => ({ type: 'UnbanUser', channel: ch, actor: owner, target }), { actorId: owner.id });
    const stored = () => pg.readStream(stream);
    return { owner, ch, stream, send, ban, unban, stored };
  }

  it('appends 50 concurrent commands in a few appends, in order, each with its own revision and metadata', async () => {
    const store = counting(pg);
    const rooms: Rooms = cachedRooms(store);
    const c = channel();
    const mod = userOf('moderator'); // owner and moderators skip the rate limit
    await rooms.handle(c.ch.id, () => ({ type: 'AddModerator', channel: c.ch, actor: c.owner, target: mod }), {});
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
    const rooms: Rooms = cachedRooms(store);
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
    const rooms: Rooms = cachedRooms(store);
    const other: Rooms = cachedRooms(pg);
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
    const rooms: Rooms = cachedRooms(pg);
    const other: Rooms = cachedRooms(pg);
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
    const rooms: Rooms = cachedRooms(racing, chatRoomDecider, { maxAttempts: 3 });
    const a = userOf('user_a');
    const results = await Promise.allSettled([c.send(rooms, a, '1'), c.send(rooms, a, '2'), c.send(rooms, a, '')]);
    for (const r of results.slice(0, 2)) assert.ok(r.status === 'rejected' && r.reason instanceof WrongExpectedRevisionError);
    assert.ok(results[2]?.status === 'rejected');
    assert.deepEqual(await c.stored(), []);
  });

  it('caps a group at maxGroupSize', async () => {
    const store = counting(pg);
    const rooms: Rooms = cachedRooms(store, chatRoomDecider, { maxGroupSize: 10 });
    const c = channel();
    const outcomes = await Promise.all(Array.from({ length: 31 }, (_, i) => c.send(rooms, c.owner, `m${i}`)));
    assert.equal(outcomes.at(-1)?.revision, 30n);
    assert.equal(store.appends, 4); // 1 + 10 + 10 + 10
    assert.equal(rooms.stats().largestGroup, 10);
  });
  describe('isolates a command whose events cannot be appended (issue 9, invariant 7)', () => {
    /** Sends through `rooms` with explicit metadata (a poison correlation id makes PostgreSQL's jsonb refuse the row). */
    const sendWith = (c: ReturnType<typeof channel>, rooms: Rooms, sender: ChatUser, text: string, metadata: EventMetadata) =>
      rooms.handle(c.ch.id, () => ({ type: 'SendChatMessage', messageId: randomUUID(), sender, text, now: new Date(), follows: false, channel: c.ch }), metadata);

    it('PostgreSQL refuses three commands of a group (NUL, lone surrogate): they fail alone, the other 27 commit in order', async () => {
      const store = counting(pg);
      const rooms: Rooms = cachedRooms(store);
      const c = channel();
      const mod = userOf('moderator');
      const viewers = Array.from({ length: 5 }, (_, i) => userOf(`viewer_${i}`));
      await rooms.handle(c.ch.id, () => ({ type: 'AddModerator', channel: c.ch, actor: c.owner, target: mod }), {});
      const poison: Record<number, string> = { 3: 'nul\u0000id', 11: 'lone\ud800', 22: '\u0000' };
      const ops = Array.from({ length: 30 }, (_, i) => {
        const bad = poison[i];
        if (bad !== undefined) return sendWith(c, rooms, mod, `poisoned ${i}`, { actorId: mod.id, correlationId: bad });
        if (i % 10 === 5) return c.ban(rooms, viewers[(i / 10) | 0]!);
        if (i % 10 === 7) return c.unban(rooms, viewers[(i / 10) | 0]!);
        return c.send(rooms, i % 2 ? mod : c.owner, `m${i}`);
      });
      const results = await Promise.allSettled(ops);
      for (const [i, r] of results.entries()) {
        if (poison[i] !== undefined) {
          assert.equal(r.status, 'rejected', `command ${i} must fail`);
          const code = (r).reason as { code?: string };
          assert.match(String(code.code), /^22/, `command ${i}: a data exception of PostgreSQL, got ${String(code.code)}`);
        } else {
          assert.equal(r.status, 'fulfilled', `command ${i} must commit: ${r.status === 'rejected' ? String(r.reason) : ''}`);
        }
      }
      const events = await c.stored();
      const expected = ops.flatMap((_, i) => (poison[i] !== undefined ? [] : [i % 10 === 5 ? 'ChatUserBanned' : i % 10 === 7 ? 'ChatUserUnbanned' : `m${i}`]));
      assert.deepEqual(
        events.slice(1).map((e) => (e.type === 'ChatMessageSent' ? (e.data as { text: string }).text : e.type)),
        expected,
      );
      assert.deepEqual(events.map((e) => e.revision), events.map((_, i) => BigInt(i)));
      const revisions = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.revision] : []));
      assert.deepEqual(revisions, expected.map((_, i) => BigInt(i + 1)), 'each command reports the revision of its own event');
      assert.ok(rooms.stats().isolations >= 1);
      assert.ok(store.appends < 30, `${store.appends} appends: isolation must not fall back to one append per command`);
      // The cache is still right: the next command commits on top.
      const next = await c.send(rooms, c.owner, 'after');
      assert.equal(next.revision, BigInt(events.length));
    });

    it('the catalog refuses one command (a decider bug emits NUL): InvalidEventError for it alone, the group commits', async () => {
      const buggy = {
        ...chatRoomDecider,
        decide: (command: ChatRoomCommand, state: ChatRoomState): ChatRoomEvent[] => {
          const events = chatRoomDecider.decide(command, state);
          return command.type === 'SendChatMessage' && command.text === 'bug'
            ? events.map((e) => (e.type === 'ChatMessageSent' ? { ...e, data: { ...e.data, text: 'x\u0000' } } : e))
            : events;
        },
      };
      const rooms: Rooms = cachedRooms(pg, buggy);
      const c = channel();
      await c.send(rooms, c.owner, 'warm');
      const results = await Promise.allSettled(['a', 'bug', 'b', 'c', 'bug', 'd'].map((t) => c.send(rooms, c.owner, t)));
      assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason instanceof InvalidEventError ? 'invalid' : String(r.reason))), ['ok', 'invalid', 'ok', 'ok', 'invalid', 'ok']);
      assert.deepEqual((await c.stored()).map((e) => (e.data as { text: string }).text), ['warm', 'a', 'b', 'c', 'd']);
    });

    it('tells infrastructure failures from data the store refuses', () => {
      const pgError = (code: string) => Object.assign(new Error('pg'), { code });
      for (const infra of [pgError('08006'), pgError('57P01'), pgError('53300'), pgError('40P01'), pgError('42P01'), pgError('XX000'), pgError('ECONNREFUSED'), new Error('Connection terminated unexpectedly'), new Error('timeout exceeded when trying to connect')]) {
        assert.equal(isInfrastructureError(infra), true, String((infra as { code?: string }).code ?? infra.message));
      }
      for (const data of [pgError('22P05'), pgError('22021'), pgError('23505'), new InvalidEventError('invalid "ChatMessageSent" payload'), new TypeError('x'), 'a string']) {
        assert.equal(isInfrastructureError(data), false, String(data));
      }
    });

    it('an infrastructure failure (database unreachable) fails the attempt without bisecting', async () => {
      const down = new PostgresEventStore({ connectionString: 'postgres://postgres@127.0.0.1:1/none' });
      let appends = 0;
      const store = Object.create(pg) as EventStore;
      store.append = (...args) => {
        appends++;
        return down.append(...args);
      };
      try {
        const rooms: Rooms = cachedRooms(store);
        const c = channel();
        const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => c.send(rooms, c.owner, `m${i}`)));
        for (const r of results) assert.ok(r.status === 'rejected' && isInfrastructureError(r.reason), String((r as PromiseRejectedResult).reason));
        assert.equal(appends, 2, 'one append for the first command, one for the group queued behind it');
        assert.equal(rooms.stats().isolations, 0);
      } finally {
        await down.close();
      }
    });
  });
});

describe('AggregateService: one runner with or without a cache (broadcast aggregate, real PostgreSQL store)', () => {
  let db: TestDatabase;
  let pg: PostgresEventStore;
  before(async () => {
    db = await createTestDatabase('command_api_aggregate_service_test');
    pg = new PostgresEventStore({ connectionString: db.url });
    await pg.migrate();
  });
  after(async () => {
    await pg.close();
    await db.drop();
  });

  type Broadcasts = AggregateService<BroadcastCommand, BroadcastEvent, BroadcastState>;
  const media = { videoCodec: 'h264', audioCodec: 'aac', width: 1280, height: 720, frameRate: 30, videoBitrateKbps: 2500, audioSampleRate: 48000, audioChannels: 2 };
  const start = (channelId: string, broadcastId: string = randomUUID()): BroadcastCommand => ({ type: 'StartBroadcast', broadcastId, channelId, username: 'caster', media, now: new Date() });
  const endLive: BroadcastCommand = { type: 'EndLiveBroadcast', reason: 'unpublished', now: new Date() };

  /** The store, recording the `from` of every stream read. */
  function recording(): EventStore & { froms: bigint[]; appends: number } {
    const s = Object.create(pg) as EventStore & { froms: bigint[]; appends: number };
    s.froms = [];
    s.appends = 0;
    s.readStream = (stream, options) => {
      s.froms.push(options?.from ?? 0n);
      return pg.readStream(stream, options);
    };
    s.append = (...args) => {
      s.appends++;
      return pg.append(...args);
    };
    return s;
  }
  const uncached = (store: EventStore, maxAttempts?: number): Broadcasts => new AggregateService(store, broadcastDecider, streams.broadcast, maxAttempts === undefined ? {} : { maxAttempts });
  const cached = (store: EventStore): Broadcasts => new AggregateService(store, broadcastDecider, streams.broadcast, { cache: { capacity: 10 } });

  for (const mode of ['without', 'with'] as const) {
    it(`${mode} a cache: decides, appends and reports the revision, the global position and the state; a no-op appends nothing`, async () => {
      const store = recording();
      const service = mode === 'with' ? cached(store) : uncached(store);
      const channelId = randomUUID();
      const b1 = randomUUID();
      const started = await service.handle(channelId, start(channelId, b1), { correlationId: 'c1', actorId: channelId });
      const stored = await pg.readStream(streams.broadcast(channelId));
      assert.equal(stored.length, 1);
      assert.deepEqual([started.revision, started.position, started.attempts], [0n, stored[0]!.globalPosition, 1]);
      assert.equal(started.events[0]?.type, 'BroadcastStarted');
      assert.equal(started.state.live?.broadcastId, b1);
      assert.deepEqual(stored[0]!.metadata, { correlationId: 'c1', actorId: channelId });

      const again = await service.handle(channelId, (state) => start(channelId, state.live?.broadcastId), {}); // a retried start: no-op
      assert.deepEqual([again.events, again.revision, again.position], [[], 0n, stored[0]!.globalPosition]);
      await assert.rejects(service.handle(channelId, start(channelId), {}), (err: unknown) => err instanceof DomainError && err.code === 'already_live');

      const loaded = await service.load(channelId);
      assert.deepEqual([loaded.revision, loaded.position, loaded.state.live?.broadcastId], [0n, stored[0]!.globalPosition, b1]);
      // Without a cache every command and load reads the stream from its start; with one, only what follows the
      // cached revision (the no-op and the refusal, decided on this process's own append, are confirmed by a read).
      assert.deepEqual(store.froms, mode === 'without' ? [0n, 0n, 0n, 0n] : [0n, 1n, 1n, 1n]);
      const history = await service.history(channelId);
      assert.deepEqual(history.events.map((e) => e.id), stored.map((e) => e.id));
      assert.deepEqual([history.revision, history.position, history.state.live?.broadcastId], [0n, stored[0]!.globalPosition, b1]);
      assert.equal(store.appends, 1);
      assert.equal(service.stats().appends, 1);
    });
  }

  it('without a cache: concurrent commands race under optimistic concurrency; the losers are re-decided on fresh state', async () => {
    // The first reads of the four commands are held until all four have read: they all decide on the empty stream.
    let waiting = 0;
    let release: () => void = () => undefined;
    const allRead = new Promise<void>((resolve) => (release = resolve));
    const gated = Object.create(pg) as EventStore;
    gated.readStream = async (stream, options) => {
      const page = await pg.readStream(stream, options);
      if (waiting < 4 && ++waiting === 4) release();
      await allRead;
      return page;
    };
    const service = uncached(gated);
    const channelId = randomUUID();
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => service.handle(channelId, start(channelId), {})));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1, 'exactly one broadcast starts');
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as DomainError).code, 'already_live');
    assert.equal(service.stats().conflicts, 3, 'three appends lost the race and were re-decided');
    assert.equal((await pg.readStream(streams.broadcast(channelId))).length, 1);
  });

  it('without a cache: gives up with WrongExpectedRevisionError after maxAttempts', async () => {
    const channelId = randomUUID();
    const losing = Object.create(pg) as EventStore;
    losing.append = (stream, _events, expected) => Promise.reject(new WrongExpectedRevisionError(stream, expected, 99n));
    const service = uncached(losing, 3);
    await assert.rejects(service.handle(channelId, start(channelId), {}), WrongExpectedRevisionError);
    assert.deepEqual([service.stats().conflicts, service.stats().reads], [3, 3]);
  });

  it('with a cache: a conflict with another writer refreshes the cache from the cached revision and re-decides', async () => {
    const store = recording();
    const mine = cached(store);
    const other = uncached(pg); // another process
    const channelId = randomUUID();
    await mine.handle(channelId, start(channelId), {});
    await other.handle(channelId, endLive, {}); // this process's cache still says live
    const b2 = randomUUID();
    await other.handle(channelId, start(channelId, b2), {});
    store.froms = [];
    // Decided on the stale cache (b1 live) it would end b1; the append conflicts, the cache catches up, and the
    // command, decided again, ends b2 instead.
    const ended = await mine.handle(channelId, endLive, {});
    assert.equal(ended.attempts, 2);
    assert.equal(mine.stats().conflicts, 1);
    assert.deepEqual(store.froms, [1n], 'one catch-up read, from after the cached revision');
    assert.equal(ended.events[0]?.type, 'BroadcastEnded');
    assert.equal((ended.events[0]?.data as { broadcastId: string }).broadcastId, b2);
    assert.equal(ended.revision, 3n);
    const stored = await pg.readStream(streams.broadcast(channelId));
    assert.deepEqual(stored.map((e) => e.type), ['BroadcastStarted', 'BroadcastEnded', 'BroadcastStarted', 'BroadcastEnded']);
    assert.equal(ended.position, stored[3]!.globalPosition);
    // Another writer is active on the stream: for a while (conflictCooldownMs) the next command reads before deciding,
    // but only the events after the refreshed revision.
    store.froms = [];
    const next = await mine.handle(channelId, start(channelId), {});
    assert.deepEqual([next.revision, next.attempts, store.froms], [4n, 1, [4n]]);
  });

  it('with a cache: a refusal decided on the cache is confirmed by a read, and decided again when the stream moved', async () => {
    const mine = cached(pg);
    const other = uncached(pg);
    const channelId = randomUUID();
    await mine.handle(channelId, start(channelId), {});
    await other.handle(channelId, endLive, {});
    // On the cache the channel is live (already_live); the stream says it is not: the start goes through.
    const restarted = await mine.handle(channelId, start(channelId), {});
    assert.deepEqual([restarted.events.length, restarted.revision, mine.stats().conflicts], [1, 2n, 0]);
  });
});

describe('backoffMs (exponential backoff with full jitter)', () => {
  it('waits at least 1 ms and at most min(500, base·2^(attempt−1)) ms, and the ceiling doubles per attempt', () => {
    for (const [attempt, ceiling] of [[1, 10], [2, 20], [4, 80], [6, 320], [7, 500], [12, 500]] as const) {
      const waits = Array.from({ length: 2000 }, () => backoffMs(10, attempt));
      assert.ok(waits.every((w) => Number.isInteger(w) && w >= 1 && w <= ceiling), `attempt ${attempt}: within [1, ${ceiling}]`);
      // Full jitter spreads over the whole range (a fixed or half-range wait would not reach its lowest tenth).
      assert.ok(waits.some((w) => w <= Math.max(1, ceiling / 10)) && waits.some((w) => w > ceiling * 0.9), `attempt ${attempt}: spread over the range`);
    }
  });
});
