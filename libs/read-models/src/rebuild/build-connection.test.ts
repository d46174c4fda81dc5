/**
 * Rebuilds on a dedicated build connection bulk-load chat messages with `COPY … FROM STDIN`; this checks, against real
 * PostgreSQL, that the COPY text format carries every character as the parameterised insert does (tabs, line breaks,
 * backslashes, `\N` and `\.` as text, control characters, emoji), that a message id already stored falls back to the
 * insert that skips it, and that such a build equals the live read model applied one event per transaction
 * (verify with several batch sizes, then a rebuild and its switch).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { streams, type EventData, type EventType, type NewEvent } from '@eventcast/events';
import { createTestDatabase, type TestDatabase } from '@eventcast/platform';
import { createProjections } from '../registry.js';
import { createReadModelDb } from '../schema/database.js';
import { migrateReadModels } from '../migrations/migrations.js';
import { copyField } from '../projections/projection.js';
import { chatRoom, user } from '../testing/chat-fixtures.js';
import { dumpReadModels } from '../testing/dump.js';
import { liveReadModel } from '../testing/read-models.js';
import { MemoryEventLog } from '../testing/memory-event-log.js';
import { BuildConnection } from './build-connection.js';
import { ProjectionRebuilder, type RebuildEventSource } from './rebuilder.js';

/** Texts with every character the COPY text format reserves or could misread. */
const TRICKY = [
  'tab\there',
  'line\nbreak\r\nand CR\r',
  'back\\slash \\N \\. \\t end\\',
  '\\.',
  '\\N',
  'N',
  'emoji 🎉 ünïcödé 漢字',
  '\u0001\u0008ctrl\u000b\u000c\u007f',
  '"quoted" {braces} ,comma NULL \'apos\'',
];

void describe('COPY into build tables', () => {
  const dbs: TestDatabase[] = [];
  void after(async () => {
    for (const d of dbs) await d.drop();
  });

  void test('copyField escapes exactly the reserved characters', () => {
    assert.equal(copyField(null), '\\N');
    assert.equal(copyField('\\N'), '\\\\N');
    assert.equal(copyField('a\tb\nc\rd\\e'), 'a\\tb\\nc\\rd\\\\e');
    assert.equal(copyField('plain ü \u0001'), 'plain ü \u0001');
    assert.equal(copyField(42), '42');
    assert.equal(copyField(9007199254740993n), '9007199254740993');
  });

  void test('the copier writes the same texts inside the transaction, in statement order, and refuses outside one', async () => {
    const tdb = await createTestDatabase('qa_test');
    dbs.push(tdb);
    const { root } = createReadModelDb(tdb.url, 1);
    await migrateReadModels(root);
    await root.destroy();
    const conn = new BuildConnection(tdb.url);
    try {
      const copier = conn.copier('readmodels');
      await assert.rejects(copier.copy('chat_messages', ['id'], ''), /outside a transaction/);
      const channel = randomUUID();
      const sender = randomUUID();
      const ids = TRICKY.map(() => randomUUID());
      type Seen = { text: string; bot_name: string | null; masked_terms: number; visible_at: Date };
      let seen: Seen[] = [];
      const columns = ['id', 'channel_id', 'sender_id', 'sender_name', 'sender_role', 'text', 'masked_terms', 'sent_at', 'visible_at', 'deleted_at', 'deleted_by', 'global_position', 'bot_name'];
      const lines = TRICKY.map(
        (text, i) =>
          [ids[i]!, channel, sender, 'user_x', 'viewer', text, i, '2026-11-22T12:00:00.000Z', '2026-11-22T12:00:01.500Z', null, null, BigInt(i + 1), i % 2 ? 'bot\tname' : null]
            .map((v) => copyField(v))
            .join('\t') + '\n',
      );
      const rollback = new Error('roll back');
      await assert.rejects(
        conn.root.transaction().execute(async (trx) => {
          assert.equal(await copier.copy('chat_messages', columns, lines.join('')), TRICKY.length);
          // A statement sent after the COPY in the same transaction sees its rows.
          const r = await sql<Seen>`SELECT text, bot_name, masked_terms, visible_at FROM readmodels.chat_messages ORDER BY global_position`.execute(trx);
          seen = r.rows;
          await assert.rejects(copier.copy('chat_messages', columns, lines[0]!), (err: { code?: string }) => err.code === '23505');
          throw rollback;
        }),
        (err) => err === rollback,
      );
      assert.deepEqual(
        seen.map((r) => r.text),
        TRICKY,
      );
      assert.deepEqual(
        seen.map((r) => r.bot_name),
        TRICKY.map((_, i) => (i % 2 ? 'bot\tname' : null)),
      );
      assert.deepEqual(
        seen.map((r) => r.masked_terms),
        TRICKY.map((_, i) => i),
      );
      assert.equal(seen[0]!.visible_at.toISOString(), '2026-11-22T12:00:01.500Z');
      // Rolled back with its transaction.
      const left = await sql<{ n: string }>`SELECT count(*)::text AS n FROM readmodels.chat_messages`.execute(conn.root);
      assert.equal(left.rows[0]!.n, '0');
    } finally {
      await conn.close();
    }
  });

  void test('a build with COPY equals the live read model (verify at batch sizes 1, 4, all; then rebuild and switch)', { timeout: 120_000 }, async () => {
    const log = new MemoryEventLog();
    const [a, b, mod, x, y] = ['own_a', 'own_b', 'mod_m', 'user_x', 'user_y'].map(user) as [ReturnType<typeof user>, ...ReturnType<typeof user>[]];
    const ra = chatRoom(a);
    const rb = chatRoom(b!);
    const A = streams.chat(a.id);
    const B = streams.chat(b!.id);
    const add = (stream: string, ...events: NewEvent[]) => {
      for (const e of events) log.append(stream, e.type as EventType, e.data as EventData<EventType>);
    };
    // Events never carry control characters since the text rule (old ones are read with U+FFFD in their place): the
    // raw controls are covered by the direct COPY test above.
    const asStored = (t: string): string => [...t].map((c) => (/\p{Cc}/u.test(c) ? '\ufffd' : c)).join('');
    const tricky = TRICKY.map((t, i) => ra.message(i % 2 ? x! : y!, asStored(t)));
    add(A, ...tricky.slice(0, 4));
    add(B, rb.message(x!, 'b one'), rb.message(y!, 'b\\ttwo (a backslash and t: COPY escapes it)'));
    const dup = ra.message(x!, 'sent twice');
    add(A, dup, ra.deleted(mod!, tricky[1]!.data.messageId, x!.id, 'tidy'));
    const botMessage = ra.message(a, 'from the bot');
    add(A, { ...botMessage, data: { ...botMessage.data, bot: { tokenId: randomUUID(), name: 'helper_bot' } } });
    add(A, ...tricky.slice(4), ra.cleared(mod!), ra.message(y!, 'after\\clear'));
    // The same message id again, many positions later: the build's COPY meets a stored id and redoes the insert.
    add(A, ra.message(x!, 'x'), ra.message(y!, 'y'), ra.message(x!, 'z'), dup, rb.cleared(b!), rb.message(x!, 'b three\\N'));

    const { tdb, root } = await liveReadModel(dbs, log.events);
    try {
      const source: RebuildEventSource = {
        readAll: (o) => log.readAll(o),
        headPosition: () => Promise.resolve(BigInt(log.events.length)),
      };
      const rebuilder = new ProjectionRebuilder(root, source, createProjections(), { databaseUrl: tdb.url });
      for (const batchSize of [1, 4, 1000]) {
        const v = await rebuilder.verify('all', { batchSize });
        assert.deepEqual(
          v.tablesCompared.filter((t) => t.differences > 0),
          [],
          `batch size ${batchSize}`,
        );
        assert.equal(v.equal, true);
      }
      const before = await dumpReadModels(tdb.url);
      assert.equal(before.chatMessages.length, TRICKY.length + 2 + 1 + 1 + 1 + 3 + 1);
      const r = await rebuilder.rebuild('all', { batchSize: 1000 });
      assert.equal(r.position, BigInt(log.events.length));
      assert.deepEqual(await dumpReadModels(tdb.url), before);
    } finally {
      await root.destroy();
    }
  });
});
