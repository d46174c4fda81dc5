/**
 * Contract: append + readStream round trip, expected revisions, races, invalid events.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { InvalidEventError } from '@eventcast/events';
import { DuplicateEventIdError, WrongExpectedRevisionError, type ExpectedRevision } from '../port.js';
import { infoUpdated, rejected, uniqueStream, type ContractContext } from './fixtures.js';

/** Asserts `promise` rejects with a {@link WrongExpectedRevisionError} whose `actual` is `actual`. */
async function rejectsWrongRevision(promise: Promise<unknown>, actual: bigint | 'no_stream'): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof WrongExpectedRevisionError, `expected WrongExpectedRevisionError, got ${String(err)}`);
    assert.equal(err.actual, actual);
    return true;
  });
}

/** Registers the append tests. */
export function appendingTests(ctx: ContractContext): void {
  void it('appends with a caller-supplied id; a second append with the same id is refused with DuplicateEventIdError', async () => {
    const store = ctx.store();
    const stream = uniqueStream();
    const id = randomUUID();
    const first = await store.append(stream, [rejected(1, id)], 'no_stream');
    const head = await store.headPosition();
    // A retry of the same command: same id, whatever the expected revision (here `any`, and the exact one).
    for (const expected of ['any', first.nextExpectedRevision] as const) {
      await assert.rejects(store.append(stream, [rejected(1, id)], expected), (err: unknown) => {
        assert.ok(err instanceof DuplicateEventIdError, `expected DuplicateEventIdError, got ${String(err)}`);
        assert.equal(err.stream, stream);
        assert.ok(err.ids.includes(id), `the error names the id: ${err.ids.join(', ')}`);
        return true;
      });
    }
    // The id twice in one batch, or a batch with a fresh event and the stored id: nothing of it is written.
    const other = randomUUID();
    await assert.rejects(store.append(stream, [rejected(2, other), rejected(3, other)], 'any'), DuplicateEventIdError);
    await assert.rejects(store.append(stream, [rejected(2), rejected(1, id.toUpperCase())], 'any'), DuplicateEventIdError);
    const events = await store.readStream(stream);
    assert.deepEqual(events.map((e) => e.id), [id]);
    assert.equal(await store.headPosition(), head);
    // The stream still takes new events, with the revision the refused appends did not move.
    assert.equal((await store.append(stream, [rejected(4, other)], first.nextExpectedRevision)).nextExpectedRevision, 1n);
    await assert.rejects(store.append(stream, [{ ...rejected(5), id: 'not-a-uuid' }], 'any'), InvalidEventError);
  });

  void it('appends and reads a stream back with revisions, ids, data and metadata', async () => {
    const store = ctx.store();
    const stream = uniqueStream();
    const id = randomUUID();
    const result = await store.append(stream, [rejected(1, id), infoUpdated('a'), rejected(3)], 'no_stream');
    assert.equal(result.nextExpectedRevision, 2n);
    const events = await store.readStream(stream);
    assert.deepEqual(events.map((e) => e.revision), [0n, 1n, 2n]);
    assert.deepEqual(events.map((e) => e.type), ['PublishRejected', 'ChannelInfoUpdated', 'PublishRejected']);
    assert.equal(events[0]?.id, id);
    assert.equal(events[0]?.version, 1);
    assert.equal(events[0]?.streamName, stream);
    assert.deepEqual(events[0]?.data, rejected(1).data);
    assert.ok(events[0]?.occurredAt instanceof Date);
    assert.equal(events[2]?.globalPosition, result.lastGlobalPosition);
    await store.append(stream, [{ ...rejected(4), metadata: { correlationId: 'c-1' } }], 2n);
    const tail = await store.readStream(stream, { from: 3n });
    assert.equal(tail.length, 1);
    assert.deepEqual(tail[0]?.metadata, { correlationId: 'c-1' });
    assert.equal((await store.readStream(stream, { from: 1n, limit: 2 })).length, 2);
    assert.deepEqual(await store.readStream(uniqueStream()), []);
  });

  void it('enforces expected revisions: no_stream, stream_exists, exact and any', async () => {
    const store = ctx.store();
    const stream = uniqueStream();
    await rejectsWrongRevision(store.append(stream, [rejected()], 'stream_exists'), 'no_stream');
    await rejectsWrongRevision(store.append(stream, [rejected()], 0n), 'no_stream');
    assert.equal((await store.append(stream, [rejected(), rejected()], 'no_stream')).nextExpectedRevision, 1n);
    await rejectsWrongRevision(store.append(stream, [rejected()], 'no_stream'), 1n);
    await rejectsWrongRevision(store.append(stream, [rejected()], 0n), 1n);
    await rejectsWrongRevision(store.append(stream, [rejected()], 5n), 1n);
    assert.equal((await store.append(stream, [rejected()], 1n)).nextExpectedRevision, 2n);
    assert.equal((await store.append(stream, [rejected()], 'stream_exists')).nextExpectedRevision, 3n);
    assert.equal((await store.append(stream, [rejected()], 'any')).nextExpectedRevision, 4n);
    assert.equal((await store.append(uniqueStream(), [rejected()], 'any')).nextExpectedRevision, 0n);
    assert.equal((await store.readStream(stream)).length, 5);
  });

  void it('lets exactly one of two racing appends with the same expected revision win (20 races)', async () => {
    const store = ctx.store();
    for (let race = 0; race < 20; race++) {
      const stream = uniqueStream();
      const expected: ExpectedRevision = race % 2 === 0 ? 'no_stream' : 0n;
      if (expected === 0n) await store.append(stream, [rejected()], 'no_stream');
      const results = await Promise.allSettled([store.append(stream, [rejected(1)], expected), store.append(stream, [rejected(2)], expected)]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      assert.equal(won.length, 1, `race ${race}: exactly one append must win`);
      assert.ok(lost[0]?.reason instanceof WrongExpectedRevisionError, `race ${race}: loser gets WrongExpectedRevisionError`);
      assert.equal((await store.readStream(stream)).length, expected === 0n ? 2 : 1);
    }
  });

  void it('rejects an invalid event (unknown type or bad payload) and writes nothing of the batch', async () => {
    const store = ctx.store();
    const stream = uniqueStream();
    const head = await store.headPosition();
    await assert.rejects(store.append(stream, [rejected(), { type: 'NoSuchEvent', data: {} }], 'any'), InvalidEventError);
    const badPayload = { type: 'PublishRejected', data: { channelId: 'not-a-uuid', reason: 'nope', remoteAddress: 1 } };
    await assert.rejects(store.append(stream, [rejected(), badPayload], 'no_stream'), InvalidEventError);
    await assert.rejects(store.append(stream, [{ ...rejected(), version: 99 }], 'any'), InvalidEventError);
    assert.deepEqual(await store.readStream(stream), []);
    assert.equal(await store.headPosition(), head);
  });
}
