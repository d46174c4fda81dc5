/**
 * The chat-messages rebuild look-ahead (chat-message-batch.ts): a build that knows every delete and clear up to a
 * position H writes new rows already hidden. Against real PostgreSQL, a seeded random chat log (sends, deletes of
 * earlier, later, unknown and other channels' message ids, repeated deletes, clears, the same message id sent twice)
 * is applied live one event per transaction; rebuilds with the look-ahead cut at several positions (events after H take
 * the ordinary path, as under live traffic during a rebuild) and several batch sizes must give the same read models,
 * and so must a verify. Also: an interrupted build resumes; a build whose unlogged tables a PostgreSQL crash emptied
 * (chat_messages, built LOGGED with a look-ahead, keeps its rows) starts again instead of resuming on half-lost tables.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { streams, type EventData, type EventType, type NewEvent } from '@eventcast/events';
import type { TestDatabase } from '@eventcast/platform';
import { createProjections } from '../registry.js';
import type { BuildLookahead, Projection } from '../projections/projection.js';
import { chatRoom, user, type TestUser } from '../testing/chat-fixtures.js';
import { dumpReadModels } from '../testing/dump.js';
import { liveReadModel } from '../testing/read-models.js';
import { MemoryEventLog } from '../testing/memory-event-log.js';
import { ProjectionRebuilder, type RebuildEventSource } from './rebuilder.js';

/** Mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random chat log over three channels; returns the log and the number of deletes and clears in it. */
function chatLog(seed: number, events: number): { log: MemoryEventLog; hides: number } {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const log = new MemoryEventLog();
  const owners = ['own_a', 'own_b', 'own_c'].map(user);
  const people = ['mod_m', 'user_x', 'user_y', 'user_z'].map(user);
  const rooms = owners.map((o) => ({ owner: o, room: chatRoom(o), stream: streams.chat(o.id) }));
  const sent: { channel: number; messageId: string; senderId: string; event: NewEvent }[] = [];
  const add = (stream: string, e: NewEvent) => log.append(stream, e.type as EventType, e.data as EventData<EventType>);
  let hides = 0;
  while (log.events.length < events) {
    const r = rnd();
    const c = Math.floor(rnd() * rooms.length);
    const { room, stream } = rooms[c]!;
    const mod: TestUser = people[0]!;
    if (r < 0.62 || sent.length === 0) {
      const e = room.message(pick(people), `m${log.events.length}`);
      const d = e.data as { messageId: string; senderId: string };
      sent.push({ channel: c, messageId: d.messageId, senderId: d.senderId, event: e });
      add(stream, e);
    } else if (r < 0.8) {
      // A delete of a recent or an old message, of this channel or (rarely) another one's id; sometimes twice.
      const m = rnd() < 0.7 ? sent[Math.max(0, sent.length - 1 - Math.floor(rnd() * 12))]! : pick(sent);
      const target = rnd() < 0.9 ? rooms[m.channel]! : rooms[c]!;
      add(target.stream, target.room.deleted(mod, m.messageId, m.senderId, 'r'));
      hides++;
    } else if (r < 0.83) {
      // A delete of a message id that is sent right after it (hides nothing: it did not exist yet).
      const e = room.message(pick(people), 'late');
      const d = e.data as { messageId: string; senderId: string };
      add(stream, room.deleted(mod, d.messageId, d.senderId));
      hides++;
      add(stream, e);
      sent.push({ channel: c, messageId: d.messageId, senderId: d.senderId, event: e });
    } else if (r < 0.9) {
      add(stream, room.cleared(mod));
      hides++;
    } else if (r < 0.93) {
      // The same message id sent again (the second send is ignored).
      const m = pick(sent);
      add(rooms[m.channel]!.stream, m.event);
    } else {
      add(stream, room.refused(pick(people)));
    }
  }
  return { log, hides };
}

/** The projections, with the chat look-ahead counting the events it is given. */
function countingProjections(): { projections: Projection[]; stored: () => number } {
  const projections = createProjections();
  const chat = projections.find((p) => p.name === 'chat-messages')!;
  const inner = chat.buildLookahead;
  assert.ok(inner, 'the chat-messages projection has a build look-ahead');
  let stored = 0;
  const counting: BuildLookahead = {
    types: inner.types,
    store: (trx, events, first) => {
      stored += events.length;
      return inner.store(trx, events, first);
    },
  };
  Object.defineProperty(chat, 'buildLookahead', { value: counting });
  return { projections, stored: () => stored };
}

void describe('rebuild look-ahead of chat messages', () => {
  const dbs: TestDatabase[] = [];
  void after(async () => {
    for (const d of dbs) await d.drop();
  });

  void test('rebuilds with the look-ahead cut anywhere equal the live read model', { timeout: 240_000 }, async () => {
    const { log, hides } = chatLog(20261123, 700);
    const { tdb, root } = await liveReadModel(dbs, log.events);
    try {
      const expected = await dumpReadModels(tdb.url);
      assert.ok(expected.chatMessages.some((m) => m.deleted_at !== null) && expected.chatMessages.some((m) => m.deleted_at === null));
      const head = BigInt(log.events.length);
      for (const [cut, batchSize] of [
        [head, 1000],
        [head, 7],
        [350n, 50],
        [120n, 1],
        [0n, 64],
      ] as const) {
        // The first head the rebuild reads (the look-ahead's H) is `cut`: the events after it arrive "during" the build.
        let heads = 0;
        const source: RebuildEventSource = {
          readAll: (o) => log.readAll(o),
          headPosition: () => Promise.resolve(heads++ === 0 ? cut : head),
        };
        const { projections, stored } = countingProjections();
        const r = await new ProjectionRebuilder(root, source, projections, { databaseUrl: tdb.url }).rebuild('all', { batchSize });
        assert.equal(r.position, head);
        const upToCut = log.events.filter((e) => e.globalPosition <= cut && (e.type === 'ChatMessageDeleted' || e.type === 'ChatCleared')).length;
        assert.equal(stored(), upToCut, `look-ahead events up to ${cut}`);
        if (cut === head) assert.equal(upToCut, hides);
        assert.deepEqual(await dumpReadModels(tdb.url), expected, `look-ahead cut at ${cut}, batches of ${batchSize}`);
      }
      const source: RebuildEventSource = { readAll: (o) => log.readAll(o), headPosition: () => Promise.resolve(head) };
      const v = await new ProjectionRebuilder(root, source, createProjections(), { databaseUrl: tdb.url }).verify('all', { batchSize: 33 });
      assert.deepEqual(
        v.tablesCompared.filter((t) => t.differences > 0),
        [],
      );
    } finally {
      await root.destroy();
    }
  });

  void test('a build whose unlogged tables a PostgreSQL crash emptied starts again; an interrupted one resumes', { timeout: 240_000 }, async () => {
    const { log } = chatLog(7, 400);
    const { tdb, root } = await liveReadModel(dbs, log.events);
    try {
      const expected = await dumpReadModels(tdb.url);
      const head = BigInt(log.events.length);
      /** A rebuild stopped (as by Ctrl-C) once the build has read past position 200. */
      const interrupted = async (): Promise<void> => {
        const stop = new AbortController();
        const source: RebuildEventSource = {
          readAll: (o) => {
            if ((o?.after ?? 0n) >= 200n) stop.abort(new Error('stopped'));
            return log.readAll(o);
          },
          headPosition: () => Promise.resolve(head),
        };
        await assert.rejects(new ProjectionRebuilder(root, source, createProjections(), { databaseUrl: tdb.url }).rebuild('all', { batchSize: 20, signal: stop.signal }), /stopped/);
      };
      const source: RebuildEventSource = { readAll: (o) => log.readAll(o), headPosition: () => Promise.resolve(head) };
      const rebuilder = new ProjectionRebuilder(root, source, createProjections(), { databaseUrl: tdb.url });

      await interrupted();
      const resumed = await rebuilder.rebuild('all', { batchSize: 20 });
      assert.ok(resumed.resumedFrom !== null && resumed.resumedFrom > 0n, 'an interrupted build resumes');
      assert.deepEqual(await dumpReadModels(tdb.url), expected);

      await interrupted();
      // What crash recovery does: every unlogged table of the build schema is emptied (chat_messages, built LOGGED
      // with a look-ahead, keeps its rows).
      const unlogged = await sql<{ t: string }>`SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname LIKE 'readmodels_build%' AND c.relkind = 'r' AND c.relpersistence = 'u'`.execute(root);
      assert.ok(unlogged.rows.some((r) => r.t.endsWith('.eventcast_build_alive')));
      for (const r of unlogged.rows) await sql.raw(`TRUNCATE ${r.t}`).execute(root);
      const again = await rebuilder.rebuild('all', { batchSize: 20 });
      assert.equal(again.resumedFrom, null, 'the build starts again');
      assert.deepEqual(await dumpReadModels(tdb.url), expected);
    } finally {
      await root.destroy();
    }
  });
  void test('an empty log rebuilds (all projections, or one unit) and verifies: nothing to apply', async () => {
    const log = new MemoryEventLog();
    const { tdb, root } = await liveReadModel(dbs, log.events);
    try {
      const source: RebuildEventSource = { readAll: (o) => log.readAll(o), headPosition: () => Promise.resolve(0n) };
      const rebuilder = new ProjectionRebuilder(root, source, createProjections(), { databaseUrl: tdb.url });
      const r = await rebuilder.rebuild('all');
      assert.deepEqual([r.position, r.events], [0n, 0]);
      assert.equal((await rebuilder.verify('all')).equal, true);
      assert.equal((await rebuilder.rebuild(['chat-messages'])).position, 0n);
    } finally {
      await root.destroy();
    }
  });
});
