import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { accountDecider } from '@eventcast/domain';
import { PostgresEventStore, WrongExpectedRevisionError, type EventStore } from '@eventcast/event-store';
import { streams } from '@eventcast/events';
import { AggregateService } from '../core/aggregate-service.js';
import { bearer, register, startHarness, type Harness } from '../test-support/harness.js';

describe('optimistic concurrency on channel info', () => {
  let h: Harness;
  let store: PostgresEventStore;
  before(async () => {
    h = await startHarness();
    store = new PostgresEventStore({ connectionString: h.db.url });
  });
  after(async () => {
    await store.close();
    await h.stop();
  });

  it('lets concurrent UpdateChannelInfo commands all succeed, with consecutive revisions', async () => {
    const { token, id } = await register(h, 'mallory');
    // Twelve at once: with four, the requests were sometimes handled one after another (no race, nothing to prove)
    // once the JWT check got faster; the deterministic race is the next test.
    const titles = Array.from({ length: 12 }, (_, i) => `title ${i}`);
    const replies = await Promise.all(titles.map((title) => h.http('PUT', '/me/channel', { title }, bearer(token))));
    assert.deepEqual(replies.map((r) => r.status), titles.map(() => 200));
    const events = (await h.allEvents()).filter((e) => e.streamName === streams.account(id));
    assert.deepEqual(events.map((e) => e.revision), Array.from({ length: 14 }, (_, i) => String(i)));
    assert.deepEqual(events.slice(2).map((e) => (e.data as { title: string }).title).sort(), [...titles].sort());
    assert.ok(h.logs.some((l) => l.includes('re-decided after a concurrent write')), 'at least one command was retried');
  });

  it('re-decides on fresh state when another writer appends between read and append', async () => {
    const { id } = await register(h, 'niaj');
    const stream = streams.account(id);
    let raced = false;
    let reads = 0;
    // A store whose first append is preceded by a competing write: the real adapter must refuse the stale append.
    const racing: EventStore = Object.assign(Object.create(store) as EventStore, {
      readStream: (s: string, o?: { from?: bigint; limit?: number }) => {
        reads++;
        return store.readStream(s, o);
      },
      append: async (s: string, events: Parameters<EventStore['append']>[1], expected: Parameters<EventStore['append']>[2]) => {
        if (!raced) {
          raced = true;
          await store.append(s, [{ type: 'ChannelInfoUpdated', data: { channelId: id, username: 'niaj', title: 'theirs', category: 'Music' } }], expected);
        }
        return store.append(s, events, expected);
      },
    });
    const outcome = await new AggregateService(racing, accountDecider, streams.account).handle(id, { type: 'UpdateChannelInfo', title: 'mine' }, { correlationId: 'c' });
    assert.equal(outcome.attempts, 2);
    assert.equal(reads, 2);
    assert.deepEqual(
      outcome.state.status === 'registered' && [outcome.state.title, outcome.state.category],
      ['mine', 'Music'],
      'the retry was decided on the state that includes the competing write',
    );
    const events = await store.readStream(stream);
    assert.deepEqual(events.map((e) => e.revision), [0n, 1n, 2n, 3n]);
  });

  it('gives up with WrongExpectedRevisionError after maxAttempts', async () => {
    const { id } = await register(h, 'olivia');
    const losing: EventStore = Object.assign(Object.create(store) as EventStore, {
      append: (s: string, _e: unknown, expected: Parameters<EventStore['append']>[2]) => Promise.reject(new WrongExpectedRevisionError(s, expected, 99n)),
    });
    await assert.rejects(
      new AggregateService(losing, accountDecider, streams.account, { maxAttempts: 3 }).handle(id, { type: 'UpdateChannelInfo', title: 'x' }, {}),
      WrongExpectedRevisionError,
    );
  });
});
