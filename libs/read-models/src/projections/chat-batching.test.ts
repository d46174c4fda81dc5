/**
 * The chat projections fold a batch into set-based statements; this checks, against real PostgreSQL, that any batch
 * size leaves exactly the rows that applying the events one by one leaves (edge cases: deletes before/after clears,
 * repeated deletes, deletes naming the wrong channel, role changes undone in one batch, follow/unfollow/refollow).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { streams, type EventData, type EventType, type NewEvent } from '@eventcast/events';
import type { TestDatabase } from '@eventcast/platform';
import { chatRoom, ids, user } from '../testing/chat-fixtures.js';
import { dumpReadModels } from '../testing/dump.js';
import { liveReadModel } from '../testing/read-models.js';
import { MemoryEventLog } from '../testing/memory-event-log.js';

function scenario(): MemoryEventLog {
  const log = new MemoryEventLog();
  const [a, b, mod, x, y, f1, f2, f3] = ['own_a', 'own_b', 'mod_m', 'user_x', 'user_y', 'fan_1', 'fan_2', 'fan_3'].map(user) as [ReturnType<typeof user>, ...ReturnType<typeof user>[]];
  const ra = chatRoom(a);
  const rb = chatRoom(b!);
  const add = (stream: string, ...events: NewEvent[]) => {
    for (const e of events) log.append(stream, e.type as EventType, e.data as EventData<EventType>);
  };
  const m1 = ra.message(x!, 'one');
  const m2 = ra.message(y!, 'two');
  const m3 = rb.message(x!, 'three');
  const m4 = ra.message(x!, 'four');
  const m5 = ra.message(y!, 'five');
  const m6 = rb.message(y!, 'six');
  const A = streams.chat(a.id);
  const B = streams.chat(b!.id);
  add(A, m1, m2);
  add(B, m3, m6);
  add(A, ra.deleted(mod!, ids(m1).messageId, x!.id, 'first'), ra.cleared(mod!), ra.deleted(a, ids(m2).messageId, y!.id, 'after clear'));
  add(A, m4, ra.deleted(mod!, ids(m4).messageId, x!.id, 'once'), ra.deleted(a, ids(m4).messageId, x!.id, 'twice'));
  add(A, ra.cleared(a), m5, ra.deleted(a, ids(m5).messageId, y!.id));
  add(B, rb.deleted(b!, ids(m3).messageId, x!.id, 'b'), rb.deleted(b!, ids(m5).messageId, y!.id, 'wrong channel'), rb.cleared(b!), rb.message(x!, 'seven'));
  add(A, ra.message(x!, 'eight', { visibleAt: new Date(Date.now() + 60_000) }), ra.cleared(mod!), ra.message(y!, 'nine'));
  add(A, ra.moderatorAdded(x!), ra.banned(a, x!), ra.unbanned(a, x!), ra.timedOut(mod!, y!, 60), ra.moderatorRemoved(x!), ra.banned(a, y!), ra.moderatorAdded(mod!));
  add(B, rb.timedOut(b!, y!, 30), rb.unbanned(b!, y!), rb.moderatorAdded(y!));
  const FA = streams.follows(a.id);
  add(FA, ra.followed(f1!), ra.unfollowed(f1!), ra.followed(f1!), ra.followed(f2!), ra.followed(f2!), ra.unfollowed(f3!), ra.followed(f3!), ra.unfollowed(f3!));
  add(A, ra.settings(mod!, { emoteOnly: true }), ra.blockedTerms(mod!, ['bad'], 'refuse'), ra.refused(x!), ra.emoteAdded('OwnA'), ra.emoteAdded('OwnB'), ra.emoteRemoved('OwnA'));
  add(A, ra.message(x!, 'ten'), ra.cleared(a));
  return log;
}

void describe('chat projections under batching', () => {
  const dbs: TestDatabase[] = [];
  void after(async () => {
    for (const d of dbs) await d.drop();
  });

  /** Applies the log in batches of `size` to a fresh database and dumps it. */
  async function project(log: MemoryEventLog, size: number) {
    const { tdb, root, runner } = await liveReadModel(dbs, log.events, size);
    try {
      // Replays are no-ops whatever the batch size.
      assert.equal((await runner.apply(log.events)).applied, 0);
    } finally {
      await root.destroy();
    }
    return dumpReadModels(tdb.url);
  }

  void test('batches of 2, 3, 5 and everything at once equal one event per transaction', async () => {
    const log = scenario();
    const one = await project(log, 1);
    const texts = one.chatMessages.filter((m) => m.deleted_at === null).map((m) => m.text);
    assert.deepEqual(texts, ['seven'], 'six was cleared with B, eight and nine with the last clear of A');
    assert.deepEqual(
      one.chatRoles.map((r) => [r.user_name, r.moderator, r.banned, r.timed_out_until !== null]).sort(),
      [
        ['mod_m', true, false, false],
        ['user_x', false, false, false],
        ['user_y', false, true, true],
        ['user_y', true, false, false],
      ],
    );
    assert.deepEqual(one.follows.map((f) => f.follower_name).sort(), ['fan_1', 'fan_2']);
    assert.deepEqual(
      one.moderationLog.filter((e) => e.action === 'message_deleted').map((e) => [e.reason, e.target_name]),
      [
        ['first', 'user_x'],
        ['after clear', 'user_y'],
        ['once', 'user_x'],
        ['twice', 'user_x'],
        [null, 'user_y'],
        ['b', 'user_x'],
        ['wrong channel', 'user_y'],
      ],
    );
    for (const size of [2, 3, 5, log.events.length]) assert.deepEqual(await project(log, size), one, `batch size ${size}`);
  });
});
